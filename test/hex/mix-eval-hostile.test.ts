// Hostile mix.exs input: the static evaluator must refuse it quickly, with a line, and never
// overflow the stack or build huge values.
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/hex/mix-eval.js";
import { readMixProject } from "../../src/hex/mix-source.js";
import { SourceError } from "../../src/hex/source.js";

const project = (version: string, extra = "") => `defmodule Evil.MixProject do
  use Mix.Project
${extra}
  def project do
    [app: :evil, version: ${version}, deps: []]
  end
end
`;

function refusal(src: string): { message: string; ms: number } {
  const t0 = performance.now();
  let error: unknown;
  try {
    readMixProject(src);
  } catch (err) {
    error = err;
  }
  const ms = performance.now() - t0;
  expect(error).toBeInstanceOf(SourceError);
  return { message: (error as Error).message, ms };
}

describe("hostile mix.exs", () => {
  it("refuses 100,000 nested lists without a stack overflow", () => {
    const { message, ms } = refusal(project(`${"[".repeat(100_000)}${"]".repeat(100_000)}`));
    expect(message).toMatch(new RegExp(`^mix.exs:5: nested more than ${LIMITS.depth} levels deep`));
    expect(ms).toBeLessThan(5000);
  });

  it("refuses nested maps and tuples the same way", () => {
    expect(refusal(project(`${"%{a: ".repeat(5000)}1${"}".repeat(5000)}`)).message).toMatch(/nested more than/);
    expect(refusal(project(`${"{".repeat(5000)}1${"}".repeat(5000)}`)).message).toMatch(/nested more than/);
  });

  it("refuses interpolations nested 1,000 deep", () => {
    const src = project(`${'"#{'.repeat(1000)}"x"${'}"'.repeat(1000)}`);
    const { message, ms } = refusal(src);
    expect(message).toMatch(/nested more than/);
    expect(ms).toBeLessThan(5000);
  });

  it("refuses attributes that double a string by interpolation 25 times, before building it", () => {
    const attrs = ['  @a0 "' + "x".repeat(1000) + '"', ...Array.from({ length: 25 }, (_, i) => `  @a${i + 1} "#{@a${i}}#{@a${i}}"`)].join("\n");
    const { message, ms } = refusal(project("@a25", attrs));
    expect(message).toMatch(new RegExp(`an interpolated string longer than ${LIMITS.chars} characters`));
    expect(ms).toBeLessThan(5000);
  });

  it("refuses doubling by <> and by ++", () => {
    const strs = ['  @s0 "xxxxxxxx"', ...Array.from({ length: 40 }, (_, i) => `  @s${i + 1} @s${i} <> @s${i}`)].join("\n");
    expect(refusal(project("@s40", strs)).message).toMatch(/a string longer than/);
    const lists = ["  @l0 [1, 2, 3, 4]", ...Array.from({ length: 40 }, (_, i) => `  @l${i + 1} @l${i} ++ @l${i}`)].join("\n");
    expect(refusal(project("@l40", lists)).message).toMatch(/a list longer than/);
  });

  it("refuses an exponential fan-out of helper calls by its step budget", () => {
    const funcs = ['  defp f0, do: "x"', ...Array.from({ length: 20 }, (_, i) => `  defp f${i + 1}, do: [f${i}(), f${i}(), f${i}(), f${i}()]`)].join("\n");
    const { message, ms } = refusal(project("f20()", funcs));
    expect(message).toMatch(new RegExp(`too much to evaluate statically \\(over ${LIMITS.steps} steps\\)`));
    expect(ms).toBeLessThan(10_000);
  });

  it("refuses a list of 200,000 items", () => {
    expect(refusal(project(`[${"1, ".repeat(200_000)}1]`)).message).toMatch(/a list longer than/);
  });

  it("refuses recursion and unbalanced brackets with their lines", () => {
    expect(refusal(project("v()", "  defp v, do: v()")).message).toMatch(/^mix.exs:3: version is a recursive call of v\(\)/);
    expect(refusal(project('"1.0.0"', "  defp broken do\n    [1, 2\n")).message).toMatch(/^mix.exs:\d+: /);
  });

  it("still reads a large but reasonable project: 5,000 deps, many attributes", () => {
    const deps = Array.from({ length: 5000 }, (_, i) => `{:dep${i}, "~> 1.${i}"}`).join(",\n      ");
    const attrs = Array.from({ length: 2000 }, (_, i) => `  @x${i} "v${i}"`).join("\n");
    const src = `defmodule Big.MixProject do\n  use Mix.Project\n${attrs}\n  def project, do: [app: :big, version: "1.0.0", description: "#{@x1999} and #{@x0}", deps: deps()]\n  defp deps do\n    [\n      ${deps}\n    ]\n  end\nend\n`;
    const t0 = performance.now();
    const p = readMixProject(src);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(p.requirements).toHaveLength(5000);
    expect(p.description).toBe("v1999 and v0");
  });
});
