import type { Hono } from "hono";
import { z } from "zod";
import type { TokenService } from "../auth/token-service.js";
import { SwitchboardError } from "../core/errors.js";
import { parse } from "../core/schemas.js";
import { DemoAssets } from "../demo/demo-assets.js";
import { DEMO_AGENTS } from "../demo/demo-seed.js";
import type { HttpEnv } from "./http-routes.js";

/** What the demo routes need, built by the composition root. */
export interface DemoHttpDeps {
  assets: DemoAssets;
  tokens: TokenService;
  /** `DEMO_MODE`: without it `POST /demo/session` answers 404 and the console cannot sign in. */
  demoMode: boolean;
}

/** Lifetime of a demo agent's token; the console asks for a fresh one when it runs out. */
const DEMO_AGENT_TOKEN_TTL_SECONDS = 3600;

const demoSessionSchema = z.strictObject({ agentId: z.string().min(1).max(128) });

/**
 * The demo app's dynamic parts, outside the documented API: the bundles (`/assets/widget.js`,
 * `/assets/console.js`, built on first request) and, in demo mode only, `POST /demo/session`,
 * which signs anyone in as a demo agent. The pages and stylesheets are static files.
 */
export function registerDemoRoutes(app: Hono<HttpEnv>, deps: DemoHttpDeps): void {
  app.get("/assets/:name", async (c, next) => {
    const name = c.req.param("name");
    if (!DemoAssets.isBundle(name)) return next();
    const bundle = await deps.assets.get(name);
    c.header("ETag", bundle.etag);
    // Revalidated on every load, so a restarted server's new bundle is picked up at once.
    c.header("Cache-Control", "no-cache");
    // Host pages on other origins load the widget with a <script> tag.
    c.header("Cross-Origin-Resource-Policy", "cross-origin");
    if (c.req.header("if-none-match") === bundle.etag) return c.body(null, 304);
    return c.body(bundle.code, 200, { "Content-Type": "text/javascript; charset=utf-8" });
  });

  app.post("/demo/session", async (c) => {
    if (!deps.demoMode) throw new SwitchboardError("not_found", "Demo sign-in is off (DEMO_MODE); sign agents in with tokens from POST /v1/tokens.");
    const { agentId } = parse(demoSessionSchema, await c.req.json().catch(() => undefined));
    const agent = DEMO_AGENTS.find((a) => a.id === agentId);
    if (!agent) throw new SwitchboardError("not_found", `No demo agent ${agentId}; pick one of ${DEMO_AGENTS.map((a) => a.id).join(", ")}.`);
    const minted = await deps.tokens.mint({ userId: agent.id, name: agent.name, role: "agent", ttlSeconds: DEMO_AGENT_TOKEN_TTL_SECONDS });
    return c.json({ ...minted, agent }, 200);
  });

  app.get("/demo/agents", (c) => c.json({ agents: deps.demoMode ? DEMO_AGENTS : [] }, 200));
}
