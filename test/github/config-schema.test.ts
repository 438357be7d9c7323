import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { repoConfigJsonSchema } from "../../src/github/config.js";

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/github/pkgpub.schema.json");

describe(".github/pkgpub.yml JSON Schema", () => {
  it("is the committed src/github/pkgpub.schema.json (regenerate it from repoConfigJsonSchema() after changing the config)", () => {
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(repoConfigJsonSchema());
  });
  it("lists the three kinds and forbids unknown keys such as a signing key", () => {
    const text = JSON.stringify(repoConfigJsonSchema());
    for (const kind of ["julia-registry", "julia-package", "hex-package"]) expect(text).toContain(`"${kind}"`);
    expect(text).toContain('"additionalProperties":false');
  });
});
