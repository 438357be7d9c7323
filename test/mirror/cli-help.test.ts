import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

describe("pkgpub mirror --help", () => {
  it("lists the two mirror commands, and each has its own help", async () => {
    const group = await runCli(["mirror", "--help"]);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain("pkgpub mirror julia");
    expect(group.stdout).toContain("pkgpub mirror hex");
    const julia = await runCli(["mirror", "julia", "--help"]);
    expect(julia.stdout).toContain("--manifest <file>");
    expect(julia.stdout).toContain("--platform <triplet>");
    const hex = await runCli(["mirror", "hex", "--help"]);
    expect(hex.stdout).toContain("--public-key <file>");
    expect(hex.stdout).toContain("HEX_CDN=");
  });

  it("refuses missing flags with usage errors", async () => {
    const r = await runCli(["mirror", "hex", "--lock", "mix.lock", "--repo", "hexpm", "--upstream", "https://repo.hex.pm"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing required --public-key");
    const j = await runCli(["mirror", "julia", "--upstream", "ftp://x"]);
    expect(j.code).toBe(2);
    expect(j.stderr).toContain("--upstream must be an http(s) URL");
  });
});
