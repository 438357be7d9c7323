import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { buffer } from "node:stream/consumers";
import { createPrivateKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { GIT_ENV, git, makeRepo, type FileSpec } from "../../support/git-repo.js";
import { PKGPUB_BIN } from "../../support/cli.js";
import type { Store } from "../../../src/store/store.js";

export const VECTORS = "/work/shared/specs/hex-vectors";
export const vector = (name: string): Buffer => readFileSync(path.join(VECTORS, name));
export const vectorText = (name: string): string => readFileSync(path.join(VECTORS, name), "utf8");
export const vectorPrivateKey = (): KeyObject => createPrivateKey(vectorText("keys/priv.pem"));

/** A fresh RSA-2048 key pair as PEM text. */
export function newKeyPem(): { privatePem: string; spkiPem: string; pkcs1Pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    spkiPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    pkcs1Pem: publicKey.export({ type: "pkcs1", format: "pem" }).toString(),
  };
}

export interface RebarPackageSpec {
  app: string;
  /** The vsn term as written in the .app.src: `git` or `"1.2.3"`. */
  vsn: string;
  tag: string;
  /** rebar.config deps, e.g. [["foo", "~> 0.1"]] */
  deps?: Array<[string, string]>;
  /** Locked versions for rebar.lock, by package name. */
  locked?: Record<string, string>;
  /** Erlang source of src/<app>.erl. */
  erl?: string;
  extra?: Record<string, FileSpec>;
}

/** A tagged rebar3 project in a new git repository. */
export function makeRebarProject(dir: string, spec: RebarPackageSpec): string {
  const deps = spec.deps ?? [];
  const files: Record<string, FileSpec> = {
    [`src/${spec.app}.app.src`]: `%% the ${spec.app} application\n{application, ${spec.app},\n [{description, "The ${spec.app} package"},\n  {vsn, ${spec.vsn}},\n  {registered, []},\n  {applications, [kernel, stdlib${deps.map(([d]) => `, ${d}`).join("")}]},\n  {env, []},\n  {licenses, ["Apache-2.0"]},\n  {links, [{"Source", "https://example.invalid/${spec.app}"}]}\n ]}.\n`,
    [`src/${spec.app}.erl`]: spec.erl ?? `-module(${spec.app}).\n-export([hello/0]).\nhello() -> ${spec.app}_hello.\n`,
    "rebar.config": `{erl_opts, [debug_info]}.\n{deps, [${deps.map(([d, r]) => `{${d}, "${r}"}`).join(", ")}]}.\n`,
    "README.md": `# ${spec.app}\n`,
    "test/skipped_SUITE.erl": "this file is not part of the package\n",
    ...(spec.extra ?? {}),
  };
  if (spec.locked) {
    const entries = Object.entries(spec.locked).map(([n, v]) => `{<<"${n}">>,{pkg,<<"${n}">>,<<"${v}">>},0}`);
    files["rebar.lock"] = `{"1.2.0",\n[${entries.join(",\n ")}]}.\n[\n].\n`;
  }
  makeRepo(dir, files);
  git(dir, "tag", spec.tag);
  return dir;
}

/** A tagged Mix project in a new git repository. */
export function makeMixProject(dir: string, mixExs: string, tag: string, extra: Record<string, FileSpec> = {}): string {
  makeRepo(dir, { "mix.exs": mixExs, "lib/thing.ex": "defmodule Thing do\nend\n", "README.md": "# thing\n", "LICENSE": "Apache-2.0\n", "test/thing_test.exs": "# not packaged\n", ...extra });
  git(dir, "tag", tag);
  return dir;
}

/** Every key in the store with its etag: to show that a refused publish wrote nothing. */
export async function snapshot(store: Store, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of store.list(prefix)) out[e.key] = e.etag;
  return out;
}

export async function readObject(store: Store, key: string): Promise<Buffer> {
  const obj = await store.get(key);
  if (!obj) throw new Error(`${key}: not in the store`);
  return buffer(obj.body);
}

/** `pkgpub serve` as a real process on a free port. */
export async function startServe(storeSpec: string, env: NodeJS.ProcessEnv): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [PKGPUB_BIN, "serve", "--store", storeSpec, "--port", "0"], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      const m = /on (http:\/\/[0-9.:]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
    child.on("exit", (code) => reject(new Error(`pkgpub serve exited with ${code}: ${err}`)));
  });
  child.stdout!.resume();
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export { GIT_ENV };
