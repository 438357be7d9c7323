import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2-core machines: a few forks keep git, rebar3 and Swift from starving each other.
    pool: "forks",
    maxWorkers: 3,
  },
});
