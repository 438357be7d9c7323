import { describe, expect, it } from "vitest";
import { parseRepoConfig } from "../../src/github/config.js";
import { ownerRepo, planPush, queueKey, type PushInfo } from "../../src/github/jobs.js";

const push = (ref: string, extra: Partial<PushInfo> = {}): PushInfo => ({
  ref, after: "a".repeat(40), commit: "a".repeat(40), deleted: false, cloneUrl: "https://github.com/acme/x.git", defaultBranch: "main", fullName: "acme/x", ...extra,
});
const registry = parseRepoConfig({ kind: "julia-registry" }, "cfg");
const pkg = parseRepoConfig({ kind: "julia-package", registry: "https://github.com/acme/Reg.git", subdir: "julia/Foo" }, "cfg");
const hex = parseRepoConfig({ kind: "hex-package", hex_repo: "acme" }, "cfg");

describe("which pushes become work", () => {
  it("a registry publishes pushes to its default branch only", () => {
    expect(planPush(push("refs/heads/main"), registry)).toMatchObject({ job: { kind: "julia-registry", registry: "https://github.com/acme/x.git", branch: "main" } });
    expect(planPush(push("refs/heads/feature"), registry)).toEqual({ skip: "refs/heads/feature is not the registry's branch main" });
    expect(planPush(push("refs/tags/v1.0.0"), registry)).toMatchObject({ skip: expect.stringContaining("not the registry's branch") });
    expect(planPush(push("refs/heads/release"), parseRepoConfig({ kind: "julia-registry", branch: "release" }, "cfg"))).toMatchObject({ job: { branch: "release" } });
  });
  it("package repositories act on tags, not branches; deleted refs do nothing", () => {
    expect(planPush(push("refs/tags/Foo-v1.2.3"), pkg)).toMatchObject({ job: { kind: "julia-package", tag: "Foo-v1.2.3", subdir: "julia/Foo", mode: "push" } });
    expect(planPush(push("refs/heads/main"), pkg)).toEqual({ skip: "refs/heads/main is not a tag" });
    expect(planPush(push("refs/tags/v1.0.0", { deleted: true, after: "0".repeat(40) }), hex)).toEqual({ skip: "refs/tags/v1.0.0 was deleted" });
    expect(planPush(push("refs/tags/nightly"), hex)).toEqual({ skip: "nightly is not a version tag" });
    expect(planPush(push("refs/tags/v0.3.1"), hex)).toMatchObject({ job: { kind: "hex-package", hexRepo: "acme", tag: "v0.3.1" } });
  });
  it("a hex-package's build_tool goes with its jobs; anything but mix or rebar3 is refused with the field", async () => {
    const both = parseRepoConfig({ kind: "hex-package", hex_repo: "acme", build_tool: "rebar3" }, "cfg");
    expect(planPush(push("refs/tags/v0.3.1"), both)).toMatchObject({ job: { kind: "hex-package", buildTool: "rebar3" } });
    expect(planPush(push("refs/tags/v0.3.1"), hex)).not.toHaveProperty("job.buildTool");
    expect(() => parseRepoConfig({ kind: "hex-package", hex_repo: "acme", build_tool: "make" }, ".github/pkgpub.yml")).toThrow(/^\.github\/pkgpub\.yml: build_tool: /);
    const { readActionInputs } = await import("../../src/github/action-inputs.js");
    expect(readActionInputs({ INPUT_STORE: "/tmp/s", "INPUT_BUILD-TOOL": "mix" })["build-tool"]).toBe("mix");
    expect(() => readActionInputs({ INPUT_STORE: "/tmp/s", "INPUT_BUILD-TOOL": "erlang.mk" })).toThrow(/^inputs: build-tool: /);
    const { reconcileTargetsSchema } = await import("../../src/github/reconcile.js");
    expect(reconcileTargetsSchema.parse({ hex_package: [{ url: "u", repo: "acme", build_tool: "rebar3" }] }).hex_package[0]).toEqual({ url: "u", repo: "acme", build_tool: "rebar3" });
  });
  it("a monorepo's tag <Name>-v1.2.3 picks that package's directory from subdirs", () => {
    const mono = parseRepoConfig({ kind: "julia-package", registry: "https://github.com/acme/Reg.git", subdirs: { Foo: "julia/Foo", Bar: "libs/Bar" } }, "cfg");
    expect(planPush(push("refs/tags/Bar-v0.4.0"), mono)).toMatchObject({ job: { subdir: "libs/Bar", tag: "Bar-v0.4.0" } });
    expect(planPush(push("refs/tags/Foo-v1.0.0"), mono)).toMatchObject({ job: { subdir: "julia/Foo" } });
    expect(planPush(push("refs/tags/v1.0.0"), mono)).toEqual({ skip: "tag v1.0.0 names none of the packages in subdirs (Foo, Bar)" });
    expect(planPush(push("refs/tags/Baz-v1.0.0"), mono)).toMatchObject({ skip: expect.stringContaining("Baz-v1.0.0 names none") });
  });

  it("serializes per registry (a package's registration with its registry's pushes) and per Hex repository", () => {
    const regJob = planPush(push("refs/heads/main", { cloneUrl: "https://github.com/acme/Reg.git" }), registry);
    const pkgJob = planPush(push("refs/tags/Foo-v1.0.0"), pkg);
    if (!("job" in regJob) || !("job" in pkgJob)) throw new Error("expected jobs");
    expect(queueKey(regJob.job)).toBe(queueKey(pkgJob.job));
    const hexJob = planPush(push("refs/tags/v1.0.0"), hex);
    if (!("job" in hexJob)) throw new Error("expected a job");
    expect(queueKey(hexJob.job)).toBe("hex::acme");
    expect(ownerRepo("https://github.com/acme/Reg.git")).toEqual({ owner: "acme", repo: "Reg" });
  });
});

describe(".github/pkgpub.yml", () => {
  it("names the file and each field at fault", () => {
    expect(() => parseRepoConfig({ kind: "julia-package" }, "acme/x/.github/pkgpub.yml")).toThrow(/acme\/x\/.github\/pkgpub.yml: registry: /);
    expect(() => parseRepoConfig({ kind: "npm" }, "f")).toThrow(/^f: kind: /);
    expect(() => parseRepoConfig({ kind: "hex-package", hex_repo: "acme", signing_key: "x" }, "f")).toThrow(/Unrecognized key: "signing_key"/);
    expect(() => parseRepoConfig({ kind: "julia-package", registry: "../elsewhere" }, "f")).toThrow(/registry: must be a git URL/);
  });
});
