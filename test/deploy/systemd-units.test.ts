// The systemd units docs/deploy.md tells operators to install pass `systemd-analyze verify`
// as shipped: verified under a scratch root that holds the system's own units and an
// executable at ExecStart's path, so the check covers every key and the command line.
import { execFile } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../support/git-repo.js";

const exec = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const units = path.join(root, "examples/systemd");

async function verify(scratch: string, files: Record<string, string>): Promise<{ code: number; output: string }> {
  mkdirSync(path.join(scratch, "usr/bin"), { recursive: true });
  mkdirSync(path.join(scratch, "etc/systemd/system"), { recursive: true });
  cpSync("/lib/systemd/system", path.join(scratch, "usr/lib/systemd/system"), { recursive: true, dereference: false });
  writeFileSync(path.join(scratch, "usr/bin/pkgpub"), "#!/bin/sh\n");
  chmodSync(path.join(scratch, "usr/bin/pkgpub"), 0o755);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(scratch, "etc/systemd/system", name), text);
  try {
    const r = await exec("systemd-analyze", ["verify", `--root=${scratch}`, ...Object.keys(files)], { timeout: 60_000 });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

describe("examples/systemd", () => {
  const t = tempDir("pkgpub-systemd-");
  afterAll(t.cleanup);
  const files = Object.fromEntries(readdirSync(units).filter((f) => f.endsWith(".service")).map((f) => [f, readFileSync(path.join(units, f), "utf8")]));

  it("ships a unit for serve and for app, each running that command", () => {
    expect(Object.keys(files).sort()).toEqual(["pkgpub-app.service", "pkgpub-serve.service"]);
    expect(files["pkgpub-serve.service"]).toMatch(/^ExecStart=\/usr\/bin\/pkgpub serve /m);
    expect(files["pkgpub-app.service"]).toMatch(/^ExecStart=\/usr\/bin\/pkgpub app /m);
  });

  it("passes systemd-analyze verify with no warning", async () => {
    const r = await verify(path.join(t.dir, "good"), files);
    expect(r.output).toBe("");
    expect(r.code).toBe(0);
  });

  it("is a check that can fail: a mistyped key is reported", async () => {
    const broken = { ...files, "pkgpub-serve.service": files["pkgpub-serve.service"]!.replace("Restart=on-failure", "Restart=on-falure") };
    const r = await verify(path.join(t.dir, "bad"), broken);
    expect(r.output).toContain("on-falure");
  });
});
