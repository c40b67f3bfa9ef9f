import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file in its own process: tests start servers, Redis and child processes.
    pool: "forks",
    // The second prints a plain "N passed, N failed" closing line for CI.
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
