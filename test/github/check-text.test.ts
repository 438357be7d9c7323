// Check-run text built from hostile input: a Package.toml `repo` carrying Markdown (an image
// that would be a tracking pixel, a link, an @mention) reaches the App's failure summary only
// inside a code span, on one line.
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultPublishers } from "../../src/github/default-publishers.js";
import { runJob } from "../../src/github/run-job.js";
import { FsStore } from "../../src/store/fs-store.js";
import { commitFiles, tempDir } from "../support/git-repo.js";
import { FOO_UUID, makeRegistryFixture } from "../julia/fixtures.js";

describe("check-run text from hostile input", () => {
  const t = tempDir("pkgpub-check-text-");
  afterAll(() => t.cleanup());

  it("a failure reason quoting a hostile repo URL is one code span", async () => {
    const fx = await makeRegistryFixture(path.join(t.dir, "fx"));
    try {
      const hostile = "https://evil.invalid/x.git?a=1#![p](https://tracker.example/p.png) @acme/owners\n# Heading `tick`";
      const { commit } = commitFiles(fx.dir, { "F/Foo/Package.toml": `name = "Foo"\nuuid = "${FOO_UUID}"\nrepo = ${JSON.stringify(hostile)}\n` }, "hostile repo");
      const store = new FsStore(path.join(t.dir, "store"));
      const outcome = await runJob(
        { kind: "julia-registry", registry: fx.dir, branch: "main", commit, checkSha: commit, repository: "acme/registry" },
        { publishers: defaultPublishers, openStore: async () => store, gitEnv: process.env },
      );
      expect(outcome.conclusion).toBe("failure");
      const failures = outcome.summary.split("\n").filter((l) => l.startsWith("  - `Foo`"));
      expect(failures.length).toBeGreaterThan(0);
      for (const line of failures) {
        // `Foo` v`0.1.0`: `<reason>` and nothing outside the spans.
        expect(line).toMatch(/^ {2}- `Foo` v`[0-9.]+`: `[^`]*`$/);
        expect(line).toContain("![p](https://tracker.example/p.png) @acme/owners # Heading 'tick'");
      }
      expect(outcome.summary).not.toMatch(/^# Heading/m);
    } finally {
      await fx.artifactServer.close();
    }
  });
});
