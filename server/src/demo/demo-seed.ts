import { SwitchboardError } from "../core/errors.js";
import type { UserService } from "../core/user-service.js";
import type { SupportService } from "../support/support-service.js";

/** The widget key of the demo host page (`/demo`); it works only in demo mode. */
export const DEMO_WIDGET_KEY = "wk_demo";

/** The agents a visitor of the demo can sign in as at `/` (`POST /demo/session`). */
export const DEMO_AGENTS: readonly { id: string; name: string }[] = [
  { id: "agent-ada", name: "Ada" },
  { id: "agent-bob", name: "Bob" },
];

/**
 * Seeds what the demo needs (idempotent, on every start in demo mode): the demo agents as users
 * with role `agent`, recorded as the team, and the demo widget key, limited to this server's own
 * pages.
 */
export async function seedDemo(users: UserService, support: SupportService): Promise<void> {
  for (const agent of DEMO_AGENTS) {
    await users.upsert({ id: agent.id, name: agent.name, role: "agent" });
    await support.registerAgent(agent.id);
  }
  try {
    await support.getWidgetKey(DEMO_WIDGET_KEY);
  } catch (err) {
    if (!(err instanceof SwitchboardError && err.code === "not_found")) throw err;
    await support.createWidgetKey({ id: DEMO_WIDGET_KEY, name: "Demo page (DEMO_MODE only)", allowedOrigins: [] }).catch((e: unknown) => {
      // Another process sharing the store seeded it first.
      if (!(e instanceof SwitchboardError && e.code === "conflict")) throw e;
    });
  }
}
