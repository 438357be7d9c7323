defmodule Plug.MixProject do
  use Mix.Project

  @version "1.15.3"
  @description "Compose web applications with functions"
  @xref_exclude [Plug.Cowboy, :ssl]

  def project do
    [
      app: :plug,
      version: @version,
      elixir: "~> 1.10",
      deps: deps(),
      package: package(),
      description: @description,
      name: "Plug",
      xref: [exclude: @xref_exclude],
      docs: [
        extras: ["README.md", "CHANGELOG.md"],
        main: "readme",
        groups_for_modules: groups_for_modules(),
        source_ref: "v#{@version}",
        source_url: "https://github.com/elixir-plug/plug"
      ]
    ]
  end

  def application do
    [
      extra_applications: [:eex, :logger],
      mod: {Plug.Application, []},
      env: [validate_header_keys_during_test: true]
    ]
  end

  def deps do
    [
      {:mime, "~> 1.0 or ~> 2.0"},
      {:plug_crypto, "~> 1.1.1 or ~> 1.2 or ~> 2.0"},
      {:telemetry, "~> 0.4.3 or ~> 1.0"},
      {:ex_doc, "~> 0.21", only: :docs}
    ]
  end

  defp package do
    %{
      licenses: ["Apache-2.0"],
      maintainers: ["Gary Rennie", "José Valim"],
      links: %{"GitHub" => "https://github.com/elixir-plug/plug", "Changelog" => "https://hexdocs.pm/plug/#{@version}/changelog.html"},
      files: ["lib", "mix.exs", "README.md", "CHANGELOG.md", "LICENSE", "src", ".formatter.exs"]
    }
  end

  defp groups_for_modules do
    [
      "Plugs": [Plug.BasicAuth, Plug.CSRFProtection],
      "Plug.Conn": [Plug.Conn, Plug.Conn.Adapter]
    ]
  end
end
