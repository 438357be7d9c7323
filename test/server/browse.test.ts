import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, existsSync, writeFileSync, copyFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { readHexTarball } from "../../src/hex/tarball.js";
import { releaseOf, signPackage } from "../../src/hex/registry.js";
import { FsStore } from "../../src/store/fs-store.js";
import { startTestServer, type TestServer } from "../support/serve.js";
import { tempDir } from "../support/git-repo.js";
import { raw } from "./http-client.js";
import { signedRepo } from "./hex-fixture.js";
import { registryFiles, treeTarball } from "./tarballs.js";

const exec = promisify(execFile);
const REG = "0a1b2c3d-0000-4000-8000-00000000000a";
const WIDGETS = "11111111-2222-4333-8444-555555555555";
const GADGETS = "66666666-7777-4888-8999-000000000000";
const ACME_TOKEN = "acme-token-0123456789abcdef";
const JULIA_TOKEN = "julia-token-0123456789abcdef";

function chromium(args: string[], cwd: string): Promise<{ stdout: string }> {
  return exec(
    "chromium",
    ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars", `--user-data-dir=${path.join(cwd, "profile")}`, ...args],
    { cwd, timeout: 90_000, maxBuffer: 16 << 20 },
  );
}

/** What a reader sees: the DOM's text with tags gone and entities decoded. */
function visible(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&gt;/g, ">")
    .replace(/&lt;/g, "<")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/[ \t]+/g, " ");
}

async function screenshot(url: string, dir: string, name: string): Promise<void> {
  const shot = path.join(dir, `${name}.png`);
  await chromium([`--screenshot=${shot}`, "--window-size=1100,1400", url], dir);
  expect(existsSync(shot)).toBe(true);
  const png = readFileSync(shot);
  expect(png.subarray(1, 4).toString()).toBe("PNG");
  // 1100 px wide, as asked: the page rendered, not an error screen of another size.
  expect(png.readUInt32BE(16)).toBe(1100);
  if (process.env.PKGPUB_SCREENSHOT_OUT) copyFileSync(shot, process.env.PKGPUB_SCREENSHOT_OUT.replace(/\.png$/, "") + `-${name}.png`);
}

describe("the browse pages", () => {
  const t = tempDir("pkgpub-browse-");
  let server: TestServer;
  let guarded: TestServer;
  let alphaTarball: Buffer;
  let url: string;

  beforeAll(async () => {
    const store = new FsStore(path.join(t.dir, "store"));
    const files = registryFiles("AcmeRegistry", REG, [
      { name: "Widgets", uuid: WIDGETS, versions: { "1.0.0": "a".repeat(40), "1.2.0": "b".repeat(40) } },
      { name: "Gadgets", uuid: GADGETS, versions: { "0.3.1": "c".repeat(40) } },
    ]);
    files["W/Widgets/Versions.toml"] = `${files["W/Widgets/Versions.toml"]}\n["1.3.0"]\ngit-tree-sha1 = "${"d".repeat(40)}"\nyanked = true\n`;
    files["W/Widgets/Deps.toml"] = `["1.2-1"]\nGadgets = "${GADGETS}"\n`;
    files["W/Widgets/Compat.toml"] = `["1.2-1"]\nGadgets = "0.3"\njulia = "1.6.0-1"\n`;
    const reg = treeTarball(path.join(t.dir, "reg"), files);
    await store.put(`registry/${REG}/${reg.hash}`, reg.gz);
    await store.put("registries", `/registry/${REG}/${reg.hash}\n`);
    // Only 1.2.0's tarball is in the store: the only Julia version with a known date.
    await store.put(`package/${WIDGETS}/${"b".repeat(40)}`, "tarball bytes");
    const hex = signedRepo("acme");
    for (const [p, bytes] of hex.files) await store.put(`repos/acme${p}`, bytes);
    alphaTarball = hex.files.get("/tarballs/alpha-1.0.0.tar")!;
    const release = releaseOf(readHexTarball(alphaTarball), "acme");
    // alpha: 1.0.0 and a retired 0.9.0, signed as the publish code signs them.
    const retired = { ...release, version: "0.9.0", retired: { reason: "security" as const, message: "CVE-2026-1: do not use" } };
    await store.put("repos/acme/packages/alpha", Buffer.from(signPackage({ name: "alpha", repository: "acme", releases: [release, retired] }, hex.privateKey)));
    await store.put("repos/acme/docs/alpha-1.0.0.tar.gz", "docs");
    // Something hostile in the store must come out escaped, never as markup.
    await store.put("repos/acme/tarballs/alpha-2.0.0-rc.1+x.tar", "x");
    server = await startTestServer({ store, port: 0, log: new PassThrough() });
    guarded = await startTestServer({
      store,
      port: 0,
      log: new PassThrough(),
      tokens: [
        { name: "acme-ci", token: ACME_TOKEN, scopes: ["/repos/acme"] },
        { name: "julia-ci", token: JULIA_TOKEN, scopes: ["julia"] },
      ],
    });
    url = server.url;
  });
  afterAll(async () => {
    await server?.close();
    await guarded?.close();
    t.cleanup();
  });

  it("index: plain HTML with client setup, links to every package page and a search box", async () => {
    const res = await raw(url, "/", { headers: { Host: `<script>alert(1)</script>` } });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    const html = res.body.toString();
    expect(html.match(/<script/g)).toHaveLength(1); // the copy-button script, not the Host header
    expect(html).not.toContain("alert(1)");
    expect(html).toContain("AcmeRegistry");
    expect(html).toContain(`Pkg.RegistrySpec(uuid = "${REG}")`);
    expect(html).toContain(`pkg&gt; registry add ${REG}`);
    expect(html).not.toMatch(/Tree\s/);
    expect(html).toContain(`<a href="/browse/julia/${REG}/Widgets">`);
    expect(html).toContain(`<a href="/browse/hex/acme/alpha">`);
    expect(html).toContain(`<form class="search" action="/" method="get"`);
    expect(visible(html)).toContain("test package beta");
    // The mix line names the newest real release (alpha has 1.0.0 and a pre-release), never "x.y".
    expect(html).not.toContain("x.y");
    expect(visible(html)).toContain(`{:alpha, "~> 1.0", repo: "acme"}`);
  });

  it("index: the rebar3 entry it prints is read by Erlang as rebar3 reads its config", async () => {
    const text = visible((await raw(url, "/")).body.toString());
    const entry = /\{hex, \[\{repos[\s\S]*?\}\]\}\]\}\./.exec(text)![0];
    const file = path.join(t.dir, "rebar.config");
    writeFileSync(file, `${entry}\n`);
    const out = execFileSync("erl", ["-noshell", "-eval", `{ok, [{hex, [{repos, [R]}]}]} = file:consult("${file}"), io:format("~s|~s", [maps:get(repo_url, R), maps:get(repo_public_key, R)]), halt().`], { encoding: "utf8" });
    const key = (await raw(url, "/repos/acme/public_key")).body.toString().trim();
    expect(out).toBe(`${url}/repos/acme|${key}`);
  });

  it("Hex package page: releases, retirement with its reason, checksums, install line, docs, dependencies", async () => {
    const res = await raw(url, "/browse/hex/acme/alpha");
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-cache");
    const text = visible(res.body.toString());
    expect(text).toContain("test package alpha");
    expect(text).toMatch(/Version 1\.0\.0/);
    expect(text).toContain(`{:alpha, "~> 1.0", repo: "acme"}`);
    expect(text).toContain(`{deps, [{alpha, "1.0.0"}]}.`);
    expect(text).toContain(createHash("sha256").update(alphaTarball).digest("hex"));
    expect(text).toContain(`Published ${new Date().toISOString().slice(0, 10)}`);
    expect(res.body.toString()).toContain(`href="/docs/acme/alpha/1.0.0/"`);
    expect(text).toMatch(/0\.9\.0\s+retired: security\s+CVE-2026-1: do not use/);
    const old = visible((await raw(url, "/browse/hex/acme/alpha?v=0.9.0")).body.toString());
    expect(old).toMatch(/Version 0\.9\.0\s+retired: security/);
    expect(old).toContain("Retired (security): CVE-2026-1: do not use");
    expect(old).toContain(`{:alpha, "~> 0.9.0", repo: "acme"}`);
    const beta = await raw(url, "/browse/hex/acme/beta");
    // The fixture's beta names alpha from hexpm: listed with that repository, not linked here.
    expect(visible(beta.body.toString())).toMatch(/Dependencies of 0\.1\.0\s+package requirement repository\s+alpha ~> 1\.0 hexpm/);
  });

  it("Julia package page: versions with the yanked mark, dates when known, tree hash, dependencies and compat", async () => {
    const res = await raw(url, `/browse/julia/${REG}/Widgets`);
    expect(res.status).toBe(200);
    const text = visible(res.body.toString());
    expect(text).toMatch(/Version 1\.2\.0/);
    expect(text).toContain("pkg> add Widgets@1.2.0");
    expect(text).toContain(`Checksum (git tree hash) ${"b".repeat(40)}`);
    expect(text).toMatch(/Gadgets\s+0\.3\s+66666666-7777-4888-8999-000000000000/);
    expect(text).toContain("Julia: 1.6.0-1");
    expect(res.body.toString()).toContain(`<a href="/browse/julia/${REG}/Gadgets">Gadgets</a>`);
    expect(text).toMatch(/1\.3\.0\s+yanked/);
    expect(text).toMatch(new RegExp(`1\\.2\\.0\\s+${new Date().toISOString().slice(0, 10)}`));
    const old = visible((await raw(url, `/browse/julia/${REG}/Widgets?v=1.0.0`)).body.toString());
    expect(old).toContain("pkg> add Widgets@1.0.0");
    expect(old).toMatch(/Dependencies of 1\.0\.0\s+None\./);
    expect(old).toContain("Published unknown");
  });

  it("search matches names and descriptions; bad page paths are 400/404 and the server keeps serving", async () => {
    const byDescription = visible((await raw(url, "/?q=package+beta")).body.toString());
    expect(byDescription).toContain("1 package");
    expect(byDescription).toMatch(/beta\s+Hex, acme\s+0\.1\.0\s+test package beta/);
    const byName = visible((await raw(url, "/?q=WIDG")).body.toString());
    expect(byName).toMatch(/Widgets\s+Julia, AcmeRegistry\s+1\.2\.0/);
    expect(visible((await raw(url, "/?q=%3Cb%3Enothing")).body.toString())).toContain("No package matches <b>nothing");
    expect((await raw(url, "/browse/hex/acme/Alpha")).status).toBe(400);
    expect((await raw(url, "/browse/hex/acme/gamma")).status).toBe(404);
    expect((await raw(url, `/browse/julia/${REG}/Nope`)).status).toBe(404);
    expect((await raw(url, "/browse/cargo/x/y")).status).toBe(404);
    expect((await raw(url, "/browse/hex/acme/alpha/extra")).status).toBe(404);
    expect((await raw(url, "/health")).status).toBe(200);
  });

  it("package pages take the rights of their repository or registry, as the index does", async () => {
    const as = (token?: string) => (token ? { headers: { Authorization: `Bearer ${token}` } } : {});
    expect((await raw(guarded.url, "/browse/hex/acme/alpha", as())).status).toBe(401);
    expect((await raw(guarded.url, "/browse/hex/acme/alpha", as(ACME_TOKEN))).status).toBe(200);
    expect((await raw(guarded.url, `/browse/julia/${REG}/Widgets`, as(ACME_TOKEN))).status).toBe(403);
    expect((await raw(guarded.url, `/browse/julia/${REG}/Widgets`, as(JULIA_TOKEN))).status).toBe(200);
    expect((await raw(guarded.url, "/browse/hex/acme/alpha", as(JULIA_TOKEN))).status).toBe(403);
    // Search lists only what the token may read.
    const search = visible((await raw(guarded.url, "/?q=a", as(JULIA_TOKEN))).body.toString());
    expect(search).toContain("Gadgets");
    expect(search).not.toContain("alpha");
    const page = (await raw(guarded.url, "/browse/hex/acme/alpha", as(ACME_TOKEN))).body.toString();
    expect(page).toContain("--auth-key YOUR_TOKEN");
  });

  it("renders in headless Chromium: index, a package page and a search, with copy buttons", async () => {
    const { stdout: dom } = await chromium(["--dump-dom", `${url}/`], t.dir);
    const text = visible(dom);
    expect(text).toContain(`export JULIA_PKG_SERVER=${url}`);
    expect(text).toMatch(/Widgets\s+1\.2\.0\s+1\.2\.0, 1\.0\.0/);
    expect(text).toMatch(/Gadgets\s+0\.3\.1/);
    expect(text).toContain(`mix hex.repo add acme ${url}/repos/acme --public-key acme.pem`);
    expect(text).toContain(`repo_url => <<"${url}/repos/acme">>`);
    expect(text).toContain("-----BEGIN PUBLIC KEY-----");
    expect(text).toMatch(/alpha\s+1\.0\.0\s+test package alpha\s+2\.0\.0-rc\.1\+x, 1\.0\.0/);
    // The script ran: every copyable block got its button.
    const blocks = (dom.match(/<pre class="snippet">/g) ?? []).length;
    expect(blocks).toBeGreaterThan(3);
    expect((dom.match(/<button type="button" class="copy">Copy<\/button>/g) ?? []).length).toBe(blocks);
    const { stdout: pkgDom } = await chromium(["--dump-dom", `${url}/browse/hex/acme/alpha`], t.dir);
    expect(pkgDom).toContain('class="copy">Copy</button>');
    expect(visible(pkgDom)).toContain(`{:alpha, "~> 1.0", repo: "acme"}`);
    await screenshot(`${url}/`, t.dir, "index");
    await screenshot(`${url}/browse/hex/acme/alpha`, t.dir, "package");
    await screenshot(`${url}/browse/julia/${REG}/Widgets`, t.dir, "julia-package");
    await screenshot(`${url}/?q=test+package`, t.dir, "search");
  });
});
