import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FsStore } from "../../src/store/fs-store.js";
import { PreconditionFailedError } from "../../src/store/store.js";
import { tempDir } from "../support/git-repo.js";

const scratch = tempDir("pkgpub-fs-store-");
afterAll(() => scratch.cleanup());
let n = 0;
const fresh = (): FsStore => new FsStore(path.join(scratch.dir, `s${++n}`));

async function text(store: FsStore, key: string): Promise<string> {
  const obj = await store.get(key);
  const chunks: Buffer[] = [];
  for await (const c of obj!.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe("FsStore", () => {
  it("returns the etag of the version each put wrote, even when writers race", async () => {
    const store = fresh();
    const contents = Array.from({ length: 20 }, (_, i) => "x".repeat(i + 1));
    const results = await Promise.all(contents.map((c) => store.put("repos/a/names", c)));
    expect(new Set(results.map((r) => r.etag)).size).toBe(20);
    const final = await text(store, "repos/a/names");
    expect((await store.head("repos/a/names"))!.etag).toBe(results[final.length - 1]!.etag);
  });

  it("ifMatch read-modify-write loops lose no update", async () => {
    const store = fresh();
    await store.put("counter", "0");
    const increment = async (): Promise<void> => {
      for (;;) {
        const obj = await store.get("counter");
        const chunks: Buffer[] = [];
        for await (const c of obj!.body) chunks.push(c as Buffer);
        try {
          await store.put("counter", String(Number(Buffer.concat(chunks).toString()) + 1), { ifMatch: obj!.etag });
          return;
        } catch (err) {
          if (!(err instanceof PreconditionFailedError)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: 12 }, increment));
    expect(await text(store, "counter")).toBe("12");
  });

  it("leaves no temp or lock files behind, after writes or failed writes", async () => {
    const store = fresh();
    await store.put("a/b", "1");
    await store.put("a/b", "2", { ifMatch: (await store.head("a/b"))!.etag });
    await expect(store.put("a/b", "3", { ifNoneMatch: "*" })).rejects.toBeInstanceOf(PreconditionFailedError);
    await expect(store.put("a/c", { path: path.join(scratch.dir, "missing") })).rejects.toThrow(/missing/);
    expect(readdirSync(path.join(store.root, ".pkgpub-tmp"))).toEqual([]);
    expect(readdirSync(path.join(store.root, "a"))).toEqual(["b"]);
  });
});
