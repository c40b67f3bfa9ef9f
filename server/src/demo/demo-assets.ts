import { createHash } from "node:crypto";
import path from "node:path";
import { build } from "esbuild";

/** The bundles of the demo app: the embeddable widget and the agent console. */
export const DEMO_BUNDLES = {
  "widget.js": "widget/widget.ts",
  "console.js": "console/console.ts",
} as const;

/** A bundle's name, as served under `/assets/`. */
export type DemoBundleName = keyof typeof DEMO_BUNDLES;

/** One built bundle. */
export interface DemoBundle {
  /** Minified JavaScript (an IIFE: one `<script>`, no module loader). */
  code: string;
  /** A strong ETag of `code`. */
  etag: string;
}

/**
 * Builds the demo app's TypeScript (`demo-app/src/`, with the client SDK and socket.io-client)
 * into browser bundles with esbuild, on first request, and keeps them in memory. So `npm start`
 * needs no build step and never serves a stale bundle: each process builds once, in ~100 ms.
 */
export class DemoAssets {
  private readonly built = new Map<DemoBundleName, Promise<DemoBundle>>();

  /** @param sourceDir absolute path of `demo-app/src/`. */
  constructor(private readonly sourceDir: string) {}

  /** True for the names {@link get} serves. */
  static isBundle(name: string): name is DemoBundleName {
    return Object.hasOwn(DEMO_BUNDLES, name);
  }

  /** The bundle, built on first use; a failed build is retried on the next call. */
  get(name: DemoBundleName): Promise<DemoBundle> {
    let bundle = this.built.get(name);
    if (!bundle) {
      bundle = this.build(name);
      this.built.set(name, bundle);
      bundle.catch(() => this.built.delete(name));
    }
    return bundle;
  }

  private async build(name: DemoBundleName): Promise<DemoBundle> {
    const result = await build({
      entryPoints: [path.join(this.sourceDir, DEMO_BUNDLES[name])],
      bundle: true,
      write: false,
      format: "iife",
      platform: "browser",
      target: ["es2020"],
      minify: true,
      legalComments: "none",
      // Stylesheets are imported as text and adopted as constructed stylesheets: no inline <style>, so a strict CSP holds.
      loader: { ".css": "text" },
      define: { "process.env.NODE_ENV": '"production"' },
      logLevel: "silent",
    });
    const code = result.outputFiles[0].text;
    return { code, etag: `"${createHash("sha256").update(code).digest("base64url").slice(0, 27)}"` };
  }
}
