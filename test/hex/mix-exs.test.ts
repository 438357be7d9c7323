import { describe, expect, it } from "vitest";
import { readMixProject } from "../../src/hex/mix-source.js";

const LIBRARY = `defmodule Jsonish.MixProject do
  use Mix.Project

  @version "1.4.1"
  @source_url "https://github.com/acme/jsonish"

  def project do
    [
      app: :jsonish,
      version: @version,
      elixir: "~> 1.11",
      start_permanent: Mix.env() == :prod,
      consolidate_protocols: Mix.env() != :test,
      elixirc_paths: elixirc_paths(Mix.env()),
      description: description(),
      package: package(),
      deps: deps(),
      docs: docs(),
      name: "Jsonish",
      source_url: @source_url,
      dialyzer: [plt_file: {:no_warn, "priv/plts/dialyzer.plt"}],
    ]
  end

  def application do
    [extra_applications: [:logger], mod: {Jsonish.Application, []}]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp description do
    """
    A blazing fast JSON parser and generator in pure Elixir.
    """
  end

  # The package metadata Hex needs.
  defp package do
    [
      maintainers: ["A. Person"],
      licenses: ["Apache-2.0"],
      links: %{"GitHub" => @source_url, "Changelog" => "https://hexdocs.pm/jsonish/changelog.html"},
      files: ~w(lib .formatter.exs mix.exs README* LICENSE* CHANGELOG*)
    ]
  end

  defp deps do
    [
      {:decimal, "~> 1.0 or ~> 2.0", optional: true},
      {:ex_doc, ">= 0.0.0", only: :dev, runtime: false},
      {:dialyxir, "~> 1.0", only: [:dev, :test], runtime: false},
      {:stream_data, "~> 0.5", only: :test},
      {:telemetry, "~> 1.0"}, # trailing comment
    ]
  end

  defp docs do
    [main: "readme", source_ref: "v#{@version}", extras: ["README.md", "CHANGELOG.md"]]
  end
end
`;

const PRIVATE_APP = `defmodule AcmeBilling.MixProject do
  use Mix.Project

  def project, do: [app: :acme_billing, version: "0.3.0-rc.1", elixir: "~> 1.15", deps: deps(), package: package(), description: "Billing for Acme"]

  defp deps, do: [
    {:acme_core, "~> 2.1", repo: "acme"},
    {:money_ex, "~> 1.2", hex: :money, organization: "acme_org"},
    {:plug, "~> 1.14"},
    {:credo, "~> 1.7", only: [:dev], runtime: false},
    {:local_tool, path: "../local_tool", only: :test}
  ]

  defp package, do: [name: "acme_billing", licenses: ~w[Proprietary], links: [], build_tools: ["mix"], files: ["lib", "mix.exs"]]
end
`;

const MINIMAL = `defmodule Tiny.MixProject do
  use Mix.Project
  @moduledoc "A tiny project"
  @description "Tiny: " <> "does one thing"

  def project do
    [app: :tiny, version: '0.0.1' |> to_string(), deps: []]
  end
end
`;

describe("mix.exs shapes that must parse", () => {
  it("reads a typical library: @attributes, helper functions returning literals, heredoc, map links, ~w files, only:/optional:", () => {
    const p = readMixProject(LIBRARY);
    expect(p).toMatchObject({ app: "jsonish", version: "1.4.1", elixir: "~> 1.11", description: "A blazing fast JSON parser and generator in pure Elixir." });
    expect(p.package).toEqual({
      licenses: ["Apache-2.0"],
      links: [["Changelog", "https://hexdocs.pm/jsonish/changelog.html"], ["GitHub", "https://github.com/acme/jsonish"]],
      files: ["lib", ".formatter.exs", "mix.exs", "README*", "LICENSE*", "CHANGELOG*"],
    });
    expect(p.requirements).toEqual([
      { name: "decimal", app: "decimal", requirement: "~> 1.0 or ~> 2.0", optional: true, repository: "hexpm" },
      { name: "telemetry", app: "telemetry", requirement: "~> 1.0", optional: false, repository: "hexpm" },
    ]);
  });

  it("reads one-line `do:` functions, repo:/organization:/hex: options and drops non-prod deps (even path ones)", () => {
    const p = readMixProject(PRIVATE_APP);
    expect(p).toMatchObject({ app: "acme_billing", version: "0.3.0-rc.1", description: "Billing for Acme" });
    expect(p.package).toMatchObject({ name: "acme_billing", licenses: ["Proprietary"], buildTools: ["mix"], files: ["lib", "mix.exs"] });
    expect(p.requirements).toEqual([
      { name: "acme_core", app: "acme_core", requirement: "~> 2.1", optional: false, repository: "acme" },
      { name: "money", app: "money_ex", requirement: "~> 1.2", optional: false, repository: "acme_org" },
      { name: "plug", app: "plug", requirement: "~> 1.14", optional: false, repository: "hexpm" },
    ]);
  });

  it("reads <> of literals, and ignores computed values the package does not use", () => {
    // version here is a pipe: that one is needed, so it must be refused.
    expect(() => readMixProject(MINIMAL)).toThrow(/^mix.exs:7: version is the expression/);
    const p = readMixProject(MINIMAL.replace("'0.0.1' |> to_string()", '"0.0.1"').replace("deps: []", "deps: [], description: @description"));
    expect(p).toMatchObject({ app: "tiny", version: "0.0.1", description: "Tiny: does one thing", requirements: [] });
  });

  it("reads atom-keyed links, ~w with the a modifier elsewhere, and a keyword list written with brackets in deps", () => {
    const src = LIBRARY.replace('links: %{"GitHub" => @source_url, "Changelog" => "https://hexdocs.pm/jsonish/changelog.html"}', "links: %{github: @source_url}").replace(
      '{:telemetry, "~> 1.0"}, # trailing comment',
      '{:telemetry, "~> 1.0", [optional: false]},',
    );
    const p = readMixProject(src);
    expect(p.package.links).toEqual([["github", "https://github.com/acme/jsonish"]]);
    expect(p.requirements.map((r) => r.name)).toEqual(["decimal", "telemetry"]);
  });
});

const TOOLING = `defmodule Gadget.MixProject do
  use Mix.Project

  def project() do
    [
      app: :gadget,
      version: "2.0.0-beta.3",
      elixirc_paths: elixirc_paths(Mix.env()),
      aliases: aliases(),
      releases: releases(),
      docs: docs(),
      package: package(),
      deps: deps(),
      xref: [exclude: [Mix, :crypto]]
    ]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp aliases do
    [setup: ["deps.get"], "assets.build": ["esbuild default"], test: ["ecto.create --quiet", "test"]]
  end

  def releases, do: [gadget: [steps: [:assemble, &Gadget.Release.wrap/1]]]

  defp docs do
    [groups_for_functions: [Parsers: &(&1[:kind] == :parser)], before_closing_body_tag: &tag/1]
  end

  defp tag(:html), do: """
  <script>window.x = { a: "$$" };</script>
  """
  defp tag(_), do: ""

  defp package do
    %{licenses: ["MIT"], links: %{"Docs" => "https://example.invalid/docs"}}
  end

  defp deps do
    [
      {:gear, "~> 1.0"},
      # {:sprocket, github: "acme/sprocket"},
      {:lever, "~> 0.3.0-rc.1"}
    ]
  end
end
`;

describe("mix.exs tooling sections that need no evaluation", () => {
  it("reads a package given as a map and skips captures, heredoc helpers, quoted keyword keys and multi-clause functions", () => {
    const p = readMixProject(TOOLING);
    expect(p).toMatchObject({ app: "gadget", version: "2.0.0-beta.3" });
    expect(p.package).toMatchObject({ licenses: ["MIT"], links: [["Docs", "https://example.invalid/docs"]] });
    expect(p.requirements.map((r) => `${r.name} ${r.requirement}`)).toEqual(["gear ~> 1.0", "lever ~> 0.3.0-rc.1"]);
  });

  it("names the helper a computed dependency list comes from", () => {
    const src = TOOLING.replace('{:lever, "~> 0.3.0-rc.1"}\n    ]\n  end', '{:lever, "~> 0.3.0-rc.1"}\n    ] ++ extra_deps()\n  end\n\n  defp extra_deps do\n    if System.get_env("CI"), do: [], else: [{:dbg, "~> 1.0"}]\n  end');
    expect(() => readMixProject(src)).toThrow(/^mix.exs:4\d: deps is the expression `if System.get_env\("CI"\).*` in extra_deps\(\); pkgpub reads mix.exs without running Elixir/);
  });
});

describe("dynamic mix.exs refused with the line and what to do", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["File.read! version", LIBRARY.replace('@version "1.4.1"', '@version File.read!("VERSION") |> String.trim()'), /^mix.exs:4: version is the expression `File.read!\("VERSION"\)/],
    ["System.get_env in an attribute", LIBRARY.replace('@version "1.4.1"', '@version System.get_env("VERSION") || "0.0.0"'), /^mix.exs:4: version is the expression `System/],
    ["a call inside an interpolation", LIBRARY.replace("description: description(),", 'description: "JSON #{String.upcase(@version)}",'), /^mix.exs:15: description is the interpolation `#\{String.upcase\(@version\)\}`, which calls code/],
    ["Mix.env() branch in deps", LIBRARY.replace("deps: deps(),", "deps: deps(Mix.env()),"), /^mix.exs:17: deps is the expression `deps\(Mix.env\(\)\)`/],
    ["if on a runtime condition inside deps", LIBRARY.replace('{:telemetry, "~> 1.0"}, # trailing comment', 'if(System.get_env("T"), do: {:telemetry, "~> 1.0"}, else: {:telemetry, "~> 1.1"})'), /^mix.exs:54: a dependency is the expression `if\(/],
    ["helper function with several expressions", LIBRARY.replace("defp deps do\n    [", "defp deps do\n    base = []\n    base ++ ["), /^mix.exs:49: deps is the body of deps, which has several expressions/],
    ["package helper with an argument", LIBRARY.replace("package: package(),", "package: package(@version),"), /^mix.exs:16: package is the expression `package\(@version\)`/],
    ["github dependency", LIBRARY.replace('{:telemetry, "~> 1.0"}, # trailing comment', '{:telemetry, github: "beam-telemetry/telemetry"},'), /^mix.exs:54: dependency :telemetry is a github: dependency; a Hex package can only depend on Hex packages/],
    ["exclude_patterns regex", LIBRARY.replace("files: ~w(", "exclude_patterns: [~r/secret/],\n      files: ~w("), /^mix.exs:\d+: package exclude_patterns are regular expressions/],
    ["Code.eval_file", LIBRARY.replace('version: @version,', 'version: Code.eval_file("version.exs") |> elem(0),'), /^mix.exs:10: version is the expression `Code.eval_file/],
    ["undefined attribute", LIBRARY.replace('@version "1.4.1"\n', ""), /^mix.exs:9: version is @version, which is not set before this line/],
  ];
  it.each(cases)("%s", (_label, src, message) => {
    let error: unknown;
    try {
      readMixProject(src);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Error);
    const text = (error as Error).message;
    expect(text).toMatch(message);
    if (!/dependency :telemetry|exclude_patterns/.test(text)) expect(text).toContain("write a literal here, or build the tarball with `mix hex.build`");
  });

  it("refuses umbrella projects and files without project/0", () => {
    expect(() => readMixProject(LIBRARY.replace("app: :jsonish,", 'apps_path: "apps",'))).toThrow(/umbrella projects cannot be published/);
    expect(() => readMixProject("defmodule X do\nend\n")).toThrow("mix.exs: no `def project` found");
  });
});
