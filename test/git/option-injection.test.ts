// git option injection: a repository spec beginning with "-" (a Package.toml repo, a registry
// or package given to register) is refused by name before any git runs, and nothing it names
// as a command is executed.
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GitRepository, isRemote } from "../../src/git/repository.js";
import { registerPackage } from "../../src/publish/registration.js";
import { makeRepo, tempDir } from "../support/git-repo.js";

const tmp = tempDir("pkgpub-optinj-");
afterAll(() => tmp.cleanup());
const marker = path.join(tmp.dir, "pwned");
const hostile = [
  `-ucore.x=touch ${marker}@host:x`,
  `--upload-pack=touch ${marker}@host:x`,
  `-c core.sshCommand=touch ${marker} git@host:x`,
  ` --config=core.sshCommand=touch@host:x`,
];

describe("repository specs beginning with '-'", () => {
  it("are not remote addresses", () => {
    for (const spec of hostile.slice(0, 2)) expect(isRemote(spec)).toBe(false);
  });

  it.each(hostile)("GitRepository.open refuses %j", async (spec) => {
    const err = await GitRepository.open(spec, { cacheDir: path.join(tmp.dir, "cache") }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^repository ".*" begins with "-": not a repository/);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(path.join(tmp.dir, "cache"))).toBe(false);
  });

  it("register refuses a hostile package, registry or --repo", async () => {
    const { dir: pkg } = makeRepo(path.join(tmp.dir, "pkg"), { "Project.toml": 'name = "Foo"\n' });
    const { dir: reg } = makeRepo(path.join(tmp.dir, "reg"), { "Registry.toml": 'name = "R"\n' });
    const cases: [Partial<Parameters<typeof registerPackage>[0]>, RegExp][] = [
      [{ package: hostile[0] }, /^package repository ".*" begins with "-"/],
      [{ repo: hostile[1] }, /^--repo ".*" begins with "-"/],
      [{ registry: hostile[2], push: true }, /^registry ".*" begins with "-"/],
    ];
    for (const [opts, message] of cases) {
      const err = await registerPackage({ registry: reg, package: pkg, ref: "v1.0.0", ...opts }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(message);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("a ref beginning with '-' is refused, a normal one still resolves", async () => {
    const { dir } = makeRepo(path.join(tmp.dir, "plain"), { "a.txt": "a\n" });
    const repo = await GitRepository.open(dir);
    await expect(repo.resolveCommit("--output=x")).rejects.toThrow(/ref "--output=x" begins with "-"/);
    expect(await repo.resolveCommit("main")).toMatch(/^[0-9a-f]{40}$/);
    repo.close();
  });
});
