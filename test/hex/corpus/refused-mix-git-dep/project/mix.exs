defmodule Widget.MixProject do
  use Mix.Project

  def project do
    [app: :widget, version: "0.1.0", description: "Widget", package: [licenses: ["MIT"]], deps: deps()]
  end

  defp deps do
    [
      {:plug, "~> 1.14"},
      {:sprocket, github: "acme/sprocket", tag: "v1.0.0"}
    ]
  end
end
