import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** Hook tests that render into a DOM while the server harness runs in the same process. */
const DOM_TESTS = ["test/react-hooks.test.ts"];

export default defineConfig({
  resolve: {
    // @switchboard/react imports the SDK by package name; tests run both from source.
    alias: { "@switchboard/client-sdk": fileURLToPath(new URL("./client-sdk/src/index.ts", import.meta.url)) },
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file in its own process: tests start servers, Redis and child processes.
    pool: "forks",
    // The second prints a plain "N passed, N failed" closing line for CI.
    reporters: ["default", "./test/support/summary-reporter.ts"],
    projects: [
      { extends: true, test: { name: "node", include: ["test/**/*.test.ts"], exclude: DOM_TESTS } },
      // A file-comment cannot name an environment by path, so the DOM tests get their own project.
      { extends: true, test: { name: "dom", include: DOM_TESTS, environment: "./test/support/jsdom-node-environment.ts" } },
    ],
  },
});
