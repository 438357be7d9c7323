import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { FsStore } from "../../src/store/fs-store.js";
import { startTestServer, type TestServer } from "../support/serve.js";
import { tempDir } from "../support/git-repo.js";
import { raw } from "./http-client.js";
import { signedRepo } from "./hex-fixture.js";
import { registryFiles, treeTarball } from "./tarballs.js";

const exec = promisify(execFile);
const REG = "0a1b2c3d-0000-4000-8000-00000000000a";

function chromium(args: string[], cwd: string): Promise<{ stdout: string }> {
  return exec(
    "chromium",
    ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars", `--user-data-dir=${path.join(cwd, "profile")}`, ...args],
    { cwd, timeout: 90_000, maxBuffer: 16 << 20 },
  );
}

describe("the browse page at /", () => {
  const t = tempDir("pkgpub-browse-");
  let server: TestServer;

  beforeAll(async () => {
    const store = new FsStore(path.join(t.dir, "store"));
    const reg = treeTarball(
      path.join(t.dir, "reg"),
      registryFiles("AcmeRegistry", REG, [
        { name: "Widgets", uuid: "11111111-2222-4333-8444-555555555555", versions: { "1.0.0": "a".repeat(40), "1.2.0": "b".repeat(40) } },
        { name: "Gadgets", uuid: "66666666-7777-4888-8999-000000000000", versions: { "0.3.1": "c".repeat(40) } },
      ]),
    );
    await store.put(`registry/${REG}/${reg.hash}`, reg.gz);
    await store.put("registries", `/registry/${REG}/${reg.hash}\n`);
    const hex = signedRepo("acme");
    for (const [p, bytes] of hex.files) await store.put(`repos/acme${p}`, bytes);
    // Something hostile in the store must come out escaped, never as markup.
    await store.put("repos/acme/tarballs/alpha-2.0.0-rc.1+x.tar", "x");
    server = await startTestServer({ store, port: 0, log: new PassThrough() });
  });
  afterAll(async () => {
    await server?.close();
    t.cleanup();
  });

  it("is plain HTML listing registries, repositories, packages and versions with client setup", async () => {
    const res = await raw(server.url, "/", { headers: { Host: `<script>alert(1)</script>` } });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    const html = res.body.toString();
    expect(html).not.toContain("<script");
    expect(html).toContain("AcmeRegistry");
    expect(html).toContain(`Pkg.RegistrySpec(uuid = "${REG}")`);
  });

  it("renders in headless Chromium with the setup lines a user copies", async () => {
    const { stdout: dom } = await chromium(["--dump-dom", `${server.url}/`], t.dir);
    const text = dom.replace(/<[^>]+>/g, " ").replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"');
    expect(text).toContain(`export JULIA_PKG_SERVER=${server.url}`);
    expect(text).toMatch(/Widgets\s+1\.2\.0, 1\.0\.0/);
    expect(text).toMatch(/Gadgets\s+0\.3\.1/);
    expect(text).toContain(`mix hex.repo add acme ${server.url}/repos/acme --public-key acme.pem`);
    expect(text).toContain(`repo_url => <<"${server.url}/repos/acme">>`);
    expect(text).toContain("-----BEGIN PUBLIC KEY-----");
    expect(text).toMatch(/alpha\s+2\.0\.0-rc\.1\+x, 1\.0\.0/);
    expect(text).toMatch(/beta\s+0\.1\.0/);
    const shot = path.join(t.dir, "browse.png");
    await chromium([`--screenshot=${shot}`, "--window-size=1100,1400", `${server.url}/`], t.dir);
    expect(existsSync(shot)).toBe(true);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    // 1100 px wide, as asked: the page rendered, not an error screen of another size.
    expect(png.readUInt32BE(16)).toBe(1100);
    if (process.env.PKGPUB_SCREENSHOT_OUT) {
      const { copyFileSync } = await import("node:fs");
      copyFileSync(shot, process.env.PKGPUB_SCREENSHOT_OUT);
    }
  });
});
