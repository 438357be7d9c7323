import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { FsStore } from "../../src/store/fs-store.js";
import { DEFAULT_STORE, openStore } from "../../src/store/open-store.js";
import { S3Store } from "../../src/store/s3-store.js";

const env = { AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "sekrit-value" };

describe("openStore", () => {
  it("opens a plain path or a file:// URL as a directory store", async () => {
    const plain = await openStore("some/dir", env);
    expect(plain).toBeInstanceOf(FsStore);
    expect((plain as FsStore).root).toBe(path.resolve("some/dir"));

    const dir = path.resolve("/tmp/pkgpub store é");
    const url = await openStore(pathToFileURL(dir).href, env);
    expect(url).toBeInstanceOf(FsStore);
    expect((url as FsStore).root).toBe(dir);
    expect(url.description).toBe(`directory ${dir}`);
  });

  it("takes PKGPUB_STORE when no --store is given, and ./data when neither is", async () => {
    const fromEnv = await openStore(undefined, { ...env, PKGPUB_STORE: "s3://from-env/p" });
    expect(fromEnv).toBeInstanceOf(S3Store);
    expect((fromEnv as S3Store).bucket).toBe("from-env");

    const dflt = await openStore(undefined, {});
    expect((dflt as FsStore).root).toBe(path.resolve(DEFAULT_STORE));
  });

  it("opens s3://bucket/prefix as an S3 store whose description holds no credentials", async () => {
    const store = await openStore("s3://my-bucket/julia/registry", env);
    expect(store).toBeInstanceOf(S3Store);
    expect(store).toMatchObject({ bucket: "my-bucket", prefix: "julia/registry" });
    expect(store.description).toBe("s3://my-bucket/julia/registry");
    expect(await openStore("s3://my-bucket", env)).toMatchObject({ bucket: "my-bucket", prefix: "" });

    const custom = await openStore("s3://b", { ...env, AWS_ENDPOINT_URL_S3: "https://AKIDEXAMPLE:sekrit-value@s3.example.com:9000/" });
    expect(custom.description).toBe("s3://b at https://s3.example.com:9000");
  });

  it("refuses unsupported schemes and malformed S3 URLs with a clear message", async () => {
    await expect(openStore("gs://bucket", env)).rejects.toThrow(/store "gs:\/\/bucket": unsupported store; use a directory path/);
    await expect(openStore("s3://", env)).rejects.toThrow(/invalid S3 store "s3:\/\/" \(expected s3:\/\/bucket\[\/prefix\]\)/);
    await expect(openStore("s3://b/../x", env)).rejects.toThrow(/invalid prefix/);
    const leaked = await openStore("s3://AKIDEXAMPLE:sekrit-value@bucket", env).catch((e: unknown) => String(e));
    expect(leaked).toMatch(/invalid S3 store/);
    expect(leaked).not.toContain("sekrit-value");
  });
});
