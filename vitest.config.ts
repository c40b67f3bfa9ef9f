import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: {
    // @switchboard/react imports the SDK by package name; tests run both from source.
    alias: { "@switchboard/client-sdk": fileURLToPath(new URL("./client-sdk/src/index.ts", import.meta.url)) },
  },
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
