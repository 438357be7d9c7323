// Hostile Hex package sources (issue 11's extra checks): versions with path pieces, huge
// integers, atoms and names made to escape, package files outside the tree. Each is refused
// with the field at fault, or, for huge integers (Hex allows them), ordered exactly.
import { describe, expect, it } from "vitest";
import { planMixPackage } from "../../src/hex/mix-source.js";
import { compareSemVer } from "../../src/hex/semver.js";
import type { SourceTree } from "../../src/hex/source.js";

const mix = (app: string, version: string, pkg = "") => `defmodule Evil.MixProject do
  use Mix.Project
  def project do
    [app: ${app}, version: ${version}, description: "d", package: [licenses: ["MIT"]${pkg}], deps: []]
  end
end
`;

function tree(src: string): SourceTree {
  const files: Record<string, string> = { "mix.exs": src, "lib/evil.ex": "defmodule Evil do end\n" };
  return { paths: Object.keys(files), read: async (p) => new TextEncoder().encode(files[p]!), isExecutable: () => false, symlinkTarget: () => undefined };
}

describe("hostile mix.exs values", () => {
  it.each([
    [":evil", '"1.0.0+../../x"', "v1.0.0+../../x", "", /mix\.exs version: version "1\.0\.0\+\.\.\/\.\.\/x" is not a SemVer 2\.0 version/],
    [":evil", '"1.0.0-../x"', "v1.0.0-../x", "", /is not a SemVer 2\.0 version/],
    [':"../../evil"', '"1.0.0"', "v1.0.0", "", /mix\.exs package name: package name "\.\.\/\.\.\/evil" is not valid/],
    [":evil", '"1.0.0"', "v1.0.0", ', name: "../x"', /package name "\.\.\/x" is not valid/],
    [":evil", '"1.0.0"', "v1.0.0", ', links: %{"a" => 99999999999999999999999999999}', /mix\.exs:3: package links must be a string/],
    [":evil", '"1.0.0"', "v1.0.0", ', files: ["../../etc/passwd"]', /package files lists "\.\.\/\.\.\/etc\/passwd", which is not in the repository/],
    [":evil", '"1.0.0"', "v1.0.0", ', files: ["/etc/passwd"]', /package files lists "\/etc\/passwd"/],
  ])("%s %s %s%s is refused", async (app, version, tag, pkg, message) => {
    await expect(planMixPackage(tree(mix(app, version, pkg)), tag)).rejects.toThrow(message);
  });

  it("a huge integer version is kept exactly and ordered exactly", async () => {
    const plan = await planMixPackage(tree(mix(":evil", '"99999999999999999999999.0.0"')), "v99999999999999999999999.0.0");
    expect(plan.metadata.version).toBe("99999999999999999999999.0.0");
    // Both are the same double; before the fix they compared equal.
    expect(compareSemVer("99999999999999999999999.0.0", "99999999999999999999998.0.0")).toBeGreaterThan(0);
    expect(compareSemVer("1.0.0-99999999999999999999998", "1.0.0-99999999999999999999999")).toBeLessThan(0);
    expect(compareSemVer("10.0.0", "9.0.0")).toBeGreaterThan(0);
    expect(compareSemVer("1.0.0-2", "1.0.0-10")).toBeLessThan(0);
  });
});
