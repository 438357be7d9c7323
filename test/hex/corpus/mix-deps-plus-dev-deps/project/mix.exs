defmodule Finch.MixProject do
  use Mix.Project

  @name "Finch"
  @version "0.18.0"
  @repo_url "https://github.com/sneako/finch"

  def project do
    [
      app: :finch,
      version: @version,
      elixir: "~> 1.11",
      description: "An HTTP client focused on performance.",
      package: package(),
      docs: docs(),
      start_permanent: Mix.env() == :prod,
      deps: deps() ++ test_deps() ++ extra_deps(),
      elixirc_paths: elixirc_paths(Mix.env()),
      name: @name,
      source_url: @repo_url
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp deps do
    [
      {:mint, "~> 1.3"},
      {:castore, "~> 0.1 or ~> 1.0"},
      {:nimble_pool, "~> 0.2.6 or ~> 1.0"},
      {:nimble_options, "~> 0.4 or ~> 1.0"},
      {:telemetry, "~> 0.4 or ~> 1.0"},
      {:mime, "~> 1.0 or ~> 2.0"}
    ]
  end

  defp test_deps do
    [
      {:bypass, "~> 2.0", only: :test},
      {:cowboy, "~> 2.7", only: [:dev, :test]},
      {:credo, "~> 1.3", only: [:dev, :test]}
    ]
  end

  defp extra_deps do
    if System.get_env("CI") == "true" do
      [{:excoveralls, "~> 0.18", only: :test}]
    else
      []
    end
  end

  defp package() do
    [
      description: "An HTTP client focused on performance.",
      licenses: ["MIT"],
      links: %{"GitHub" => @repo_url, "Changelog" => "https://hexdocs.pm/finch/#{@version}/changelog.html"}
    ]
  end

  defp docs do
    [logo: "assets/Finch_logo_all-White.png", source_ref: "v#{@version}", source_url: @repo_url, main: "Finch"]
  end
end
