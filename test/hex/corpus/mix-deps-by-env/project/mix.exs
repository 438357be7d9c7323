defmodule Tesla.Mixfile do
  use Mix.Project

  @source_url "https://github.com/elixir-tesla/tesla"
  @version "1.9.0"

  def project do
    [
      app: :tesla,
      version: @version,
      description: description(),
      package: package(),
      elixir: "~> 1.11",
      elixirc_paths: elixirc_paths(Mix.env()),
      deps: deps(Mix.env()),
      lockfile: lockfile(System.get_env("LOCKFILE")),
      test_coverage: [tool: ExCoveralls],
      dialyzer: [
        plt_core_path: "_build/#{Mix.env()}",
        plt_add_apps: [:mix, :inets, :idna, :ssl_verify_fun, :ex_unit],
        plt_add_deps: :project
      ],
      docs: docs()
    ]
  end

  def application do
    [extra_applications: [:logger, :ssl, :inets]]
  end

  defp description do
    "HTTP client library, with support for middleware and multiple adapters."
  end

  defp package do
    [
      maintainers: ["Tymon Tobolski"],
      licenses: ["MIT"],
      links: %{
        "GitHub" => @source_url,
        "Changelog" => "#{@source_url}/releases/tag/v#{@version}"
      }
    ]
  end

  defp lockfile(nil), do: "mix.lock"
  defp lockfile(lockfile), do: "test/lockfiles/#{lockfile}.lock"

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp deps(:test) do
    [
      {:mime, "~> 1.0 or ~> 2.0"},
      {:bypass, "~> 2.1", only: :test}
    ]
  end

  defp deps(_) do
    [
      {:mime, "~> 1.0 or ~> 2.0"},
      {:castore, "~> 0.1 or ~> 1.0", optional: true},
      {:hackney, "~> 1.6", optional: true},
      {:jason, ">= 1.0.0", optional: true},
      {:telemetry, "~> 0.4 or ~> 1.0"},
      {:ex_doc, ">= 0.0.0", only: :dev}
    ]
  end

  defp docs do
    [main: "readme", source_url: @source_url, source_ref: "v#{@version}"]
  end
end
