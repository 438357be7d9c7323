defmodule Gizmo.MixProject do
  use Mix.Project

  def project do
    [app: :gizmo, version: "1.0.0", description: "Gizmo", package: [licenses: ["MIT"]], deps: deps() ++ json_deps()]
  end

  defp deps, do: [{:telemetry, "~> 1.0"}]

  defp json_deps do
    if Code.ensure_loaded?(JSON), do: [], else: [{:jason, "~> 1.4"}]
  end
end
