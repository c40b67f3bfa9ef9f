import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

/** Hook tests that render into a DOM while the server harness runs in the same process. */
const DOM_TESTS = ["test/react-hooks.test.ts"];
const SSR_TESTS = ["test/react-ssr.test.ts"];
const DOM_ENVIRONMENT = "./test/support/jsdom-node-environment.ts";

/**
 * The hook tests run a second time against React 18, installed apart in test/react18 (its
 * own node_modules, so Testing Library there resolves React 18 too); the rest of the repo
 * develops against React 19.
 */
const REACT18 = fileURLToPath(new URL("./test/react18/node_modules/", import.meta.url));
const react18Alias = [
  { find: /^react$/, replacement: `${REACT18}react/index.js` },
  { find: /^react\/(.*)$/, replacement: `${REACT18}react/$1.js` },
  { find: /^react-dom$/, replacement: `${REACT18}react-dom/index.js` },
  { find: /^react-dom\/(.*)$/, replacement: `${REACT18}react-dom/$1.js` },
  { find: /^@testing-library\/react$/, replacement: `${REACT18}@testing-library/react/dist/index.js` },
];
const react18Projects: TestProjectInlineConfiguration[] = existsSync(`${REACT18}react`)
  ? [
      {
        extends: true,
        resolve: { alias: react18Alias },
        test: { name: "dom-react18", include: DOM_TESTS, environment: DOM_ENVIRONMENT, env: { SWITCHBOARD_REACT_MAJOR: "18" } },
      },
      {
        extends: true,
        resolve: { alias: react18Alias },
        test: { name: "ssr-react18", include: SSR_TESTS, env: { SWITCHBOARD_REACT_MAJOR: "18" } },
      },
    ]
  : [];
if (react18Projects.length === 0) {
  console.warn("React 18 hook tests SKIPPED: run `npm ci --prefix test/react18` to run them (CI does)");
}

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
      // A file comment cannot name an environment by path, so the DOM tests get their own project.
      { extends: true, test: { name: "dom", include: DOM_TESTS, environment: DOM_ENVIRONMENT } },
      ...react18Projects,
    ],
  },
});
