import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { deliver, pushPayload } from "../github/support/deliver.js";
import { startFakeGitHub } from "../github/support/fake-github.js";
import { simpleTarball } from "../hex/support/tarballs.js";
import { PKGPUB_BIN, spawnCli } from "../support/cli.js";
import { tempDir } from "../support/git-repo.js";
import { freshS3Url } from "../support/s3.js";
import { freePort } from "../support/net.js";

const s3Env = inject("s3Env");

// Recognisable fake secrets: any of them in any output is a leak.
const WEBHOOK_SECRET = "whsec_FAKE_7d1e0c9b8a6f5e4d3c2b";
const GITHUB_TOKEN = "ghs_FAKE0123456789abcdefghijABCDEFGHIJ";
const SERVE_TOKEN = "pkgpubtok_FAKE_5f4e3d2c1b0a9f8e";
const AWS_SECRET = "FAKEawsSecret+Key/9876543210abcdefXYZ";
const pem = (type: "pkcs1" | "pkcs8") =>
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type, format: "pem" }).toString();
const HEX_KEY = pem("pkcs1");
const OTHER_HEX_KEY = pem("pkcs1");
const APP_KEY = pem("pkcs8");
/** A PEM leaks if any line of its body shows up. */
const pemLines = (p: string) => p.split("\n").filter((l) => l.length > 20 && !l.startsWith("-----"));

/** A long-running pkgpub command: started, used, then stopped; returns all it printed. */
async function during(args: string[], env: NodeJS.ProcessEnv, ready: string, use: () => Promise<void>): Promise<string> {
  const child = spawn(process.execPath, [PKGPUB_BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  for (let i = 0; ; i++) {
    if (await fetch(ready).then(() => true, () => false)) break;
    if (i > 300 || child.exitCode !== null) throw new Error(`pkgpub ${args[0]} did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    await use();
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
  return out;
}

/**
 * Invariant 7: every command and server path, run as a real process with recognisable fake
 * secrets (Hex signing keys, the App key, the webhook secret, a GitHub token in URLs and the
 * environment, a serve access token, an AWS secret key), on success and on failure, with
 * debug logging where there is any; none of the secrets appears in anything printed.
 */
describe("secrets never reach output or logs", () => {
  const t = tempDir("pkgpub-rel-secrets-");
  const outputs: Array<{ what: string; text: string }> = [];
  const store = path.join(t.dir, "store");
  const hexKeyFile = path.join(t.dir, "hex.pem");
  const otherKeyFile = path.join(t.dir, "other.pem");
  const tarball = path.join(t.dir, "foo-1.0.0.tar");
  const base: NodeJS.ProcessEnv = { ...process.env, GITHUB_TOKEN, PKGPUB_HEX_KEY: HEX_KEY, TEST_HEX_KEY: HEX_KEY, LOG_LEVEL: "debug" };
  const run = async (what: string, args: string[], env: NodeJS.ProcessEnv = base) => {
    const r = await spawnCli(args, { env, cwd: t.dir });
    outputs.push({ what, text: `${r.stdout}\n${r.stderr}` });
    return r;
  };
  const tokenUrl = (p: string) => `http://x-access-token:${GITHUB_TOKEN}@127.0.0.1:9/acme/${p}.git`;

  beforeAll(() => {
    writeFileSync(hexKeyFile, HEX_KEY, { mode: 0o600 });
    writeFileSync(otherKeyFile, OTHER_HEX_KEY, { mode: 0o600 });
    writeFileSync(tarball, simpleTarball("foo", "1.0.0"));
  });
  afterAll(() => t.cleanup());

  it("hex keygen, publish, retire, unretire (good and wrong keys), verify", async () => {
    const gen = await run("hex keygen", ["hex", "keygen", "--out", path.join(t.dir, "keys")]);
    expect(gen.code).toBe(0);
    const generated = readFileSync(path.join(t.dir, "keys", "private_key.pem"), "utf8");
    expect((await run("hex publish (env key)", ["hex", "publish", "--repo", "acme", "--store", store, "--private-key", "env:TEST_HEX_KEY", "--tarball", tarball])).code).toBe(0);
    expect((await run("hex publish (wrong key)", ["hex", "publish", "--repo", "acme", "--store", store, "--private-key", otherKeyFile, "--tarball", tarball])).code).toBe(1);
    expect((await run("hex publish (generated key, wrong)", ["hex", "publish", "--repo", "acme", "--store", store, "--private-key", path.join(t.dir, "keys", "private_key.pem"), "--tarball", tarball])).code).toBe(1);
    const broken = { ...base, BROKEN_KEY: HEX_KEY.replace(/\n(.{10})/, "\n#$1") };
    expect((await run("hex publish (broken key)", ["hex", "publish", "--repo", "acme", "--store", store, "--private-key", "env:BROKEN_KEY", "--tarball", tarball], broken)).code).not.toBe(0);
    expect((await run("hex retire", ["hex", "retire", "--repo", "acme", "--store", store, "--private-key", hexKeyFile, "foo", "1.0.0", "--reason", "security", "--message", "bad"])).code).toBe(0);
    expect((await run("hex unretire", ["hex", "unretire", "--repo", "acme", "--store", store, "--private-key", hexKeyFile, "foo", "1.0.0"])).code).toBe(0);
    expect((await run("hex retire (wrong key)", ["hex", "retire", "--repo", "acme", "--store", store, "--private-key", otherKeyFile, "foo", "1.0.0", "--reason", "other"])).code).toBe(1);
    expect((await run("verify", ["verify", "--store", store])).code).toBe(0);
    outputs.push({ what: "hex keygen's own key", text: gen.stdout + gen.stderr });
    for (const line of pemLines(generated)) expect(gen.stdout + gen.stderr).not.toContain(line);
  });

  it("julia publish, julia register and reconcile with a token in every URL", async () => {
    expect((await run("julia publish (token URL)", ["julia", "publish", "--registry", tokenUrl("Registry"), "--store", store, "--cache-dir", path.join(t.dir, "cache")])).code).toBe(1);
    expect((await run("julia register (token URLs)", ["julia", "register", "--registry", tokenUrl("Registry"), "--package", tokenUrl("Foo.jl"), "--ref", "v1.0.0", "--push"])).code).not.toBe(0);
    expect((await run("reconcile (token URL)", ["reconcile", "--store", store, "--registry", tokenUrl("Registry")])).code).not.toBe(0);
  });

  it("S3 with a wrong secret key: publish, verify and hex publish fail without printing it", async () => {
    const url = await freshS3Url(s3Env, "secrets");
    const env = { ...base, ...s3Env, AWS_SECRET_ACCESS_KEY: AWS_SECRET };
    expect((await run("verify (s3, wrong secret)", ["verify", "--store", url], env)).code).not.toBe(0);
    expect((await run("hex publish (s3, wrong secret)", ["hex", "publish", "--repo", "acme", "--store", url, "--private-key", hexKeyFile, "--tarball", tarball], env)).code).not.toBe(0);
    expect((await run("julia publish (s3, wrong secret)", ["julia", "publish", "--registry", path.join(t.dir, "nowhere"), "--store", url], env)).code).not.toBe(0);
  });

  it("serve: access tokens in every client's form, right and wrong, and an S3 store with a wrong secret", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const out = await during(["serve", "--store", store, "--port", String(port), "--log-level", "debug", "--token", `ci:/:${SERVE_TOKEN}`], base, `${url}/healthz`, async () => {
      const basic = Buffer.from(`x:${SERVE_TOKEN}`).toString("base64");
      const answers = [
        await fetch(`${url}/repos/acme/names`, { headers: { Authorization: `Bearer ${SERVE_TOKEN}` } }),
        await fetch(`${url}/repos/acme/names`, { headers: { Authorization: SERVE_TOKEN } }),
        await fetch(`${url}/repos/acme/names`, { headers: { Authorization: `Basic ${basic}` } }),
        await fetch(`${url}/repos/acme/names`, { headers: { Authorization: `Bearer ${SERVE_TOKEN}x` } }),
        await fetch(`${url}/repos/acme/names?token=${SERVE_TOKEN}`),
      ];
      expect(answers[0]!.status).toBe(200);
      expect([401, 403]).toContain(answers[3]!.status);
      for (const a of answers) expect(await a.text()).not.toContain(SERVE_TOKEN);
    });
    outputs.push({ what: "serve", text: out });

    const s3Url = await freshS3Url(s3Env, "secrets-serve");
    const port2 = await freePort();
    const url2 = `http://127.0.0.1:${port2}`;
    const out2 = await during(["serve", "--store", s3Url, "--port", String(port2), "--log-level", "debug"], { ...base, ...s3Env, AWS_SECRET_ACCESS_KEY: AWS_SECRET }, `${url2}/healthz`, async () => {
      for (const p of ["/registries", "/repos/acme/names", "/"]) expect(await (await fetch(`${url2}${p}`)).text()).not.toContain(AWS_SECRET);
    });
    outputs.push({ what: "serve (s3, wrong secret)", text: out2 });
  });

  it("app: deliveries with wrong and right signatures, a push it cannot act on, a bad App key", async () => {
    const github = await startFakeGitHub();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      ...base,
      APP_ID: "1",
      PRIVATE_KEY: APP_KEY,
      WEBHOOK_SECRET,
      GITHUB_API_URL: github.url,
      PKGPUB_STORE: store,
      PKGPUB_RECONCILE_MINUTES: "0",
    };
    const out = await during(["app", "--port", String(port)], env, `${url}/healthz`, async () => {
      const hook = `${url}/api/github/webhooks`;
      // GitHub's payloads carry no credentials; the App mints an installation token to clone.
      const push = pushPayload({ owner: "acme", repo: "Registry", ref: "refs/heads/main", after: "1".repeat(40), cloneUrl: `${github.url}/acme/Registry.git` });
      expect((await deliver(hook, "push", push, { secret: "wrong" })).status).toBe(400);
      const ok = await deliver(hook, "push", push, { secret: WEBHOOK_SECRET });
      expect(ok.body).not.toContain(WEBHOOK_SECRET);
      await new Promise((r) => setTimeout(r, 1000)); // the job fails against the unreachable API, and logs
    });
    await github.close();
    outputs.push({ what: "app", text: out });
    // A broken App key stops the App at start, with a message that does not repeat it.
    const broken = { ...env, PRIVATE_KEY: APP_KEY.replace(/\n(.{10})/, "\n#$1") };
    const refused = await spawnCli(["app", "--port", String(await freePort())], { env: broken });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("PRIVATE_KEY is not a PEM private key");
    const out2 = refused.stdout + refused.stderr;
    outputs.push({ what: "app (broken App key)", text: out2 });
  });

  it("nothing printed by any of them contains a secret", () => {
    expect(outputs.length).toBeGreaterThanOrEqual(18);
    const needles = [WEBHOOK_SECRET, GITHUB_TOKEN, SERVE_TOKEN, AWS_SECRET, Buffer.from(`x:${SERVE_TOKEN}`).toString("base64"), ...pemLines(HEX_KEY), ...pemLines(OTHER_HEX_KEY), ...pemLines(APP_KEY)];
    const leaks = outputs.flatMap((o) => needles.filter((n) => o.text.includes(n)).map((n) => `${o.what}: ${n.slice(0, 12)}… in ${JSON.stringify(o.text.split("\n").find((l) => l.includes(n))?.slice(0, 300))}`));
    expect(leaks).toEqual([]);
  });
});
