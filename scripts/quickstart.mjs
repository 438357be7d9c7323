// `npm start`: turns examples/ into git repositories, publishes them into ./data (or
// $PKGPUB_STORE) with the real CLI, then serves the store. Re-running is cheap: the example
// commits are reproducible, so the second publish finds everything already stored.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../build/cli.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const work = process.env.PKGPUB_QUICKSTART_DIR ?? path.join(root, ".pkgpub-quickstart");
const store = process.env.PKGPUB_STORE ?? path.join(root, "data");
const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "pkgpub example",
  GIT_AUTHOR_EMAIL: "example@pkgpub.invalid",
  GIT_COMMITTER_NAME: "pkgpub example",
  GIT_COMMITTER_EMAIL: "example@pkgpub.invalid",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};
const git = (cwd, ...args) => execFileSync("git", args, { cwd, env: gitEnv, encoding: "utf8" }).trim();

function makeRepo(from, to, message) {
  cpSync(from, to, { recursive: true });
  git(to, "init", "-q", "-b", "main");
  git(to, "add", "-A");
  git(to, "commit", "-q", "-m", message);
}

// The Hex signing key is kept across runs so the repository's public key stays the same.
for (const name of ["packages", "registry", "hex"]) rmSync(path.join(work, name), { recursive: true, force: true });
mkdirSync(path.join(work, "packages"), { recursive: true });

const versions = new Map();
const packagesDir = path.join(root, "examples/julia/packages");
for (const name of readdirSync(packagesDir)) {
  const repo = path.join(work, "packages", `${name}.jl`);
  const project = readFileSync(path.join(packagesDir, name, "Project.toml"), "utf8");
  const version = /^version = "([^"]+)"/m.exec(project)[1];
  makeRepo(path.join(packagesDir, name), repo, `${name} v${version}`);
  git(repo, "tag", `v${version}`);
  versions.set(name, { version, tree: git(repo, "rev-parse", "HEAD^{tree}") });
}

const registry = path.join(work, "registry");
cpSync(path.join(root, "examples/julia/registry"), registry, { recursive: true });
for (const letter of readdirSync(registry)) {
  if (letter.endsWith(".toml")) continue;
  for (const name of readdirSync(path.join(registry, letter))) {
    const dir = path.join(registry, letter, name);
    const pkgFile = path.join(dir, "Package.toml");
    writeFileSync(pkgFile, readFileSync(pkgFile, "utf8").replace("{{packages}}", path.join(work, "packages")));
    const v = versions.get(name);
    writeFileSync(path.join(dir, "Versions.toml"), `["${v.version}"]\ngit-tree-sha1 = "${v.tree}"\n`);
  }
}
git(registry, "init", "-q", "-b", "main");
git(registry, "add", "-A");
git(registry, "commit", "-q", "-m", "ExampleRegistry with Greetings and HelloWorld");

console.log(`pkgpub quickstart: publishing the example registry into ${store}`);
const published = await main(["julia", "publish", "--registry", registry, "--store", store, "--cache-dir", path.join(work, "cache")]);
if (published !== 0) process.exit(published);
if (!existsSync(path.join(root, "build/cli.js"))) process.exit(1);

const hexKeys = path.join(work, "hex-key");
if (!existsSync(path.join(hexKeys, "private_key.pem"))) {
  const made = await main(["hex", "keygen", "--out", hexKeys]);
  if (made !== 0) process.exit(made);
}
const greeter = path.join(work, "hex", "greeter");
makeRepo(path.join(root, "examples/hex/greeter"), greeter, "greeter 0.1.0");
git(greeter, "tag", "v0.1.0");
console.log(`pkgpub quickstart: publishing the example Hex package into repository "example"`);
const hex = await main(["hex", "publish", "--repo", "example", "--private-key", path.join(hexKeys, "private_key.pem"), "--source", greeter, "--ref", "v0.1.0", "--store", store]);
if (hex !== 0) process.exit(hex);

const port = process.env.PKGPUB_PORT ?? "8000";
const base = `http://127.0.0.1:${port}`;
const registryUuid = /^uuid = "([^"]+)"/m.exec(readFileSync(path.join(registry, "Registry.toml"), "utf8"))[1];
const publicKeyFile = path.join(hexKeys, "public_key.pem");
const publicKey = readFileSync(publicKeyFile, "utf8").trim();
// Every line below runs as printed: the rebar3 term is the whole entry, key included (a test
// reads it back with Erlang's file:consult, as rebar3 does).
console.log(`
Serving ${store} on ${base}
  Julia:  JULIA_PKG_SERVER=${base} julia
          pkg> registry add           (Julia 1.5+: adds every registry this server lists)
          pkg> registry add ${registryUuid}    (Julia 1.4+: just ExampleRegistry)
          pkg> add HelloWorld
  Hex:    repository "example" at ${base}/repos/example (package greeter 0.1.0),
          public key in ${publicKeyFile}
    mix:  mix hex.repo add example ${base}/repos/example --public-key ${publicKeyFile}
          then {:greeter, "~> 0.1.0", repo: "example"} in the deps of mix.exs
    rebar3: {deps, [{greeter, "0.1.0"}]}. in rebar.config, and this entry in ~/.config/rebar3/rebar.config:
{hex, [{repos, [#{name => <<"example">>,
                  repo_url => <<"${base}/repos/example">>,
                  repo_public_key => <<"${publicKey}">>}]}]}.
  Browse: ${base}/
  Check:  curl ${base}/registries
Stop with Ctrl-C.
`);
process.exitCode = await main(["serve", "--store", store, "--port", port]);
