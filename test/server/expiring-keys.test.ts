// The upstream-404 memory stays bounded under floods of random misses and forgets expired keys.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ExpiringKeys } from "../../src/server/expiring-keys.js";

describe("ExpiringKeys (the proxy's negative cache)", () => {
  it("80,000 random misses keep it at its bound, the newest remembered", () => {
    const keys = new ExpiringKeys(30_000, 10_000);
    let last = "";
    for (let i = 0; i < 80_000; i++) {
      last = `package/${randomBytes(16).toString("hex")}/${randomBytes(20).toString("hex")}`;
      keys.add(last);
      expect(keys.size).toBeLessThanOrEqual(10_000);
    }
    expect(keys.size).toBe(10_000);
    expect(keys.has(last)).toBe(true);
  });

  it("drops expired keys on the next add, under the bound too", () => {
    let now = 0;
    const keys = new ExpiringKeys(1000, 100, () => now);
    for (let i = 0; i < 50; i++) keys.add(`old-${i}`);
    expect(keys.has("old-3")).toBe(true);
    now = 1001;
    keys.add("new");
    expect(keys.size).toBe(1);
    expect(keys.has("old-4")).toBe(false);
    expect(keys.has("new")).toBe(true);
  });

  it("re-adding a key renews it", () => {
    let now = 0;
    const keys = new ExpiringKeys(1000, 100, () => now);
    keys.add("a");
    now = 900;
    keys.add("b");
    keys.add("a");
    now = 1500;
    keys.add("c");
    expect(keys.has("a")).toBe(true);
    expect(keys.has("b")).toBe(true);
    now = 1950;
    expect(keys.has("b")).toBe(false);
    expect(keys.has("a")).toBe(false);
    expect(keys.has("c")).toBe(true);
  });
});
