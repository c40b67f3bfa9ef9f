import { SwitchboardClientError } from "../../../client-sdk/src/index.js";
import { h, replaceChildren } from "../shared/dom.js";
import { AgentDesk, type Agent } from "./agent-desk.js";

/**
 * The agent console's entry point (`/`): demo sign-in, then the desk. The chosen agent is kept
 * for this tab (sessionStorage), so a reload stays signed in.
 */

const AGENT_KEY = "switchboard.console.agent";
/** A token this close to its expiry is not reused for a new connection. */
const TOKEN_REUSE_MARGIN_MS = 60_000;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`index.html has no #${id}`);
  return found as T;
}

/** Fetches demo agent tokens from `POST /demo/session`, reusing one while it has time left. */
function tokenSource(agent: Agent): () => Promise<string> {
  let current: { token: string; expiresAt: string } | undefined;
  return async () => {
    if (current && Date.parse(current.expiresAt) - Date.now() > TOKEN_REUSE_MARGIN_MS) return current.token;
    const res = await fetch("/demo/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ agentId: agent.id }),
    });
    const body = (await res.json().catch(() => ({}))) as { token?: string; expiresAt?: string; error?: { message: string } };
    if (!res.ok || !body.token || !body.expiresAt) {
      // 404: demo sign-in is off; stop instead of retrying forever.
      throw new SwitchboardClientError(res.status === 404 ? "unauthorized" : "unavailable", body.error?.message ?? `HTTP ${res.status}`);
    }
    current = { token: body.token, expiresAt: body.expiresAt };
    return current.token;
  };
}

function signIn(agent: Agent): void {
  sessionStorage.setItem(AGENT_KEY, JSON.stringify(agent));
  element("signin").hidden = true;
  element("desk").hidden = false;
  const signOut = h("button", { class: "sign-out", type: "button" }, "Sign out");
  replaceChildren(element("me"), h("span", { class: "me-name" }, `Signed in as ${agent.name}`), signOut);
  const desk = new AgentDesk(agent, tokenSource(agent), {
    list: element("inbox-list"),
    filters: element("filters"),
    team: element("team"),
    conversation: element("conversation"),
    toast: element("toast"),
  });
  signOut.addEventListener("click", () => {
    desk.stop();
    sessionStorage.removeItem(AGENT_KEY);
    location.reload();
  });
  desk.start();
}

async function showSignIn(): Promise<void> {
  const list = element("agents");
  try {
    const res = await fetch("/demo/agents");
    const { agents } = (await res.json()) as { agents: Agent[] };
    if (agents.length === 0) {
      replaceChildren(list, h("p", { class: "hint" }, "Demo sign-in is off on this server (DEMO_MODE=0). Agents sign in with tokens your backend mints (POST /v1/tokens with role agent)."));
      return;
    }
    replaceChildren(
      list,
      ...agents.map((agent) => {
        const button = h("button", { class: "agent-button", type: "button", "data-agent-id": agent.id }, `Sign in as ${agent.name}`);
        button.addEventListener("click", () => signIn(agent));
        return button;
      }),
    );
  } catch {
    replaceChildren(list, h("p", { class: "hint" }, "The server could not be reached. Reload to try again."));
  }
}

function boot(): void {
  const saved = sessionStorage.getItem(AGENT_KEY);
  const agent = saved ? (JSON.parse(saved) as Agent) : undefined;
  if (agent?.id && agent.name) signIn(agent);
  else void showSignIn();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot, { once: true });
else boot();
