defmodule Slugger.MixProject do
  use Mix.Project

  @name "slugger"
  @version "0.3.0"

  def project do
    [
      app: :slugger,
      version: @version,
      description: "Slugs",
      package: [
        licenses: ["MIT"],
        links: %{"Docs" => "https://hexdocs.pm/#{String.downcase(@name)}/#{@version}"}
      ],
      deps: []
    ]
  end
end
