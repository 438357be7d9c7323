import { describe, expect, it } from "vitest";
import { parseProject } from "../../src/julia/registration/project.js";
import { planRegistration } from "../../src/julia/registration/register.js";

const TREE = "0123456789abcdef0123456789abcdef01234567";
const project = (name: string, uuid: string, version = "0.1.0", extra = "") => parseProject(`name = "${name}"\nuuid = "${uuid}"\nversion = "${version}"\n${extra}`, "Project.toml");
const plan = (files: Record<string, string>, p = project("Foo", "f0000000-0000-4000-8000-000000000001"), tag = "v0.1.0") =>
  planRegistration({ project: p, treeHash: TREE, repo: "https://example.invalid/x.git", subdir: "", tag, read: (f) => files[f] });

describe("planRegistration", () => {
  it("keeps Registry.toml's description (multi-line) and other keys, in RegistryTools' layout", () => {
    const reg = `name = "R"\nuuid = "a0000000-0000-4000-8000-000000000000"\ndescription = """\nline one\nline two\n"""\nextra_key = "kept"\n\n[packages]\n`;
    const out = plan({ "Registry.toml": reg }).files["Registry.toml"];
    expect(out).toBe(
      `name = "R"\nuuid = "a0000000-0000-4000-8000-000000000000"\n\ndescription = """\nline one\nline two\n"""\nextra_key = "kept"\n\n[packages]\nf0000000-0000-4000-8000-000000000001 = { name = "Foo", path = "F/Foo" }\n`,
    );
  });

  it("puts JLL packages under jll/", () => {
    const p = plan({ "Registry.toml": `name = "R"\nuuid = "a0000000-0000-4000-8000-000000000000"\n\n[packages]\n` }, project("Zlib_jll", "b0000000-0000-4000-8000-000000000002"));
    expect(p.packagePath).toBe("jll/Z/Zlib_jll");
  });

  it("refuses a Registry.toml whose package path leaves the repository", () => {
    const reg = `name = "R"\nuuid = "a0000000-0000-4000-8000-000000000000"\n\n[packages]\nf0000000-0000-4000-8000-000000000001 = { name = "Foo", path = "../../etc" }\n`;
    expect(() => plan({ "Registry.toml": reg })).toThrow(/path "..\/..\/etc" must be a relative path inside the repository/);
  });

  it("refuses overlapping ranges in an existing Compat.toml, naming the file", () => {
    const reg = `name = "R"\nuuid = "a0000000-0000-4000-8000-000000000000"\n\n[packages]\nf0000000-0000-4000-8000-000000000001 = { name = "Foo", path = "F/Foo" }\n`;
    const files = {
      "Registry.toml": reg,
      "F/Foo/Package.toml": `name = "Foo"\nuuid = "f0000000-0000-4000-8000-000000000001"\nrepo = "https://example.invalid/x.git"\n`,
      "F/Foo/Versions.toml": `["0.1.0"]\ngit-tree-sha1 = "${"1".repeat(40)}"\n`,
      "F/Foo/Compat.toml": `[0]\njulia = "1"\n\n["0.1"]\njulia = "1.6.0-1"\n`,
    };
    expect(() => plan(files, project("Foo", "f0000000-0000-4000-8000-000000000001", "0.2.0"), "v0.2.0")).toThrow(/F\/Foo\/Compat.toml: overlapping ranges for julia at version 0.1.0/);
  });

  it("refuses a standard library name with another UUID (RegistryTools' wrong_stdlib_uuid)", () => {
    const reg = { "Registry.toml": `name = "R"\nuuid = "a0000000-0000-4000-8000-000000000000"\n\n[packages]\n` };
    const bad = project("Foo", "f0000000-0000-4000-8000-000000000001", "0.1.0", `[deps]\nRandom = "9a3f8284-a2c9-5f02-9a11-000000000000"\n`);
    expect(() => plan(reg, bad)).toThrow(/\[deps\] Random = 9a3f8284-a2c9-5f02-9a11-000000000000: the standard library Random is 9a3f8284-a2c9-5f02-9a11-845980a1fd5c/);
    const good = project("Foo", "f0000000-0000-4000-8000-000000000001", "0.1.0", `[deps]\nRandom = "9a3f8284-a2c9-5f02-9a11-845980a1fd5c"\n`);
    expect(plan(reg, good).files["F/Foo/Deps.toml"]).toBe(`[0]\nRandom = "9a3f8284-a2c9-5f02-9a11-845980a1fd5c"\n`);
  });

  it("names the Project.toml field at fault", () => {
    expect(() => project("Foo", "f0000000-0000-4000-8000-000000000001", "0.1.0", `[compat]\nExample = "1.x"\n`)).toThrow(/Project.toml: \[compat\] Example: invalid version specifier "1.x"/);
    expect(() => parseProject(`name = "Foo"\nuuid = "f0000000-0000-4000-8000-000000000001"\n`, "Project.toml at v1")).toThrow(/Project.toml at v1: "version" is missing/);
    expect(() => project("Foo", "f0000000-0000-4000-8000-000000000001", "0.1.0", `[deps]\nFoo = "f0000000-0000-4000-8000-000000000001"\n`)).toThrow(/lists itself/);
  });
});
