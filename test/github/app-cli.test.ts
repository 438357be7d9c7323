import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";

describe("pkgpub app start-up checks", () => {
  it("refuses an App private key that is not a PEM key, without repeating it", async () => {
    const secret = "not-a-key-but-secret-looking-1234567890";
    const r = await runCli(["app", "--port", "0"], { PATH: process.env.PATH, APP_ID: "1", PRIVATE_KEY: secret, WEBHOOK_SECRET: "s3cr3t-webhook" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("PRIVATE_KEY is not a PEM private key");
    expect(r.stdout + r.stderr).not.toContain(secret);
  });
});
