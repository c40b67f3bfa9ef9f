import { builtinEnvironments, type Environment } from "vitest/runtime";

/**
 * Vitest's jsdom environment for tests that also run the server harness in the same process
 * (the `dom` project of `vitest.config.ts`). Two differences from
 * plain `jsdom`, both needed because server code loads here:
 * - modules are transformed for Node (`ssr`), not for the browser: the browser transform
 *   rewrites `new URL(path, import.meta.url)` into a page URL, which breaks every
 *   `fileURLToPath` of the server and the harness;
 * - Node's `Uint8Array`, `ArrayBuffer` and `URL` stay global: jsdom's fail the `instanceof`
 *   checks of esbuild (the demo bundler) and jose against what Node's own APIs make.
 * React, react-dom and Testing Library get jsdom's window, document and events as usual.
 */
const NODE_GLOBALS = ["Uint8Array", "ArrayBuffer", "URL"] as const;

export default {
  name: "jsdom-node",
  viteEnvironment: "ssr",
  async setup(global, options) {
    const kept = NODE_GLOBALS.map((name) => [name, global[name]] as const);
    const jsdom = await builtinEnvironments.jsdom.setup(global, options);
    // Defined, not assigned: the environment installs some of them as accessors.
    for (const [name, value] of kept) Object.defineProperty(global, name, { value, writable: true, configurable: true });
    return { teardown: (g) => jsdom.teardown(g) };
  },
} satisfies Environment;
