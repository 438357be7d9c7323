defmodule AcmeBilling.MixProject do
  use Mix.Project

  def project, do: [app: :acme_billing, version: "0.3.0-rc.1", elixir: "~> 1.15", deps: deps(), package: package(), description: """
  Billing for Acme.
  """]

  defp deps, do: [
    {:acme_core, "~> 2.1", repo: "hexpm:acme"},
    {:money_ex, "~> 1.2", hex: :money, organization: "acme"},
    {:plug, "~> 1.14"},
    {:credo, "~> 1.7", only: [:dev], runtime: false},
    {:local_tool, path: "../local_tool", only: :test}
  ]

  defp package, do: [files: ["lib", "mix.exs"]]
end
