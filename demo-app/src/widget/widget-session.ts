import { SwitchboardClientError, isErrorCode, type SupportTicket } from "../../../client-sdk/src/index.js";

/** What `POST /v1/widget/sessions` answers. */
export interface WidgetSessionResponse {
  token: string;
  expiresAt: string;
  userId: string;
  visitorId?: string;
  conversationId: string;
  ticket: SupportTicket;
  agentsOnline: number;
}

/** How the host page identifies a logged-in customer (all three from its backend). */
export interface WidgetIdentity {
  userId: string;
  userHash: string;
  name?: string;
}

/** What the widget keeps in localStorage, per widget key. */
interface Stored {
  /** The anonymous visitor id the server issued. */
  visitorId?: string;
  /** A conversation exists with messages: reconnect on page load to show replies. */
  active?: boolean;
}

/** A token this close to its expiry is not reused for a new connection. */
const TOKEN_REUSE_MARGIN_MS = 60_000;

/**
 * The visitor's session: starts it with the widget key, keeps the anonymous visitor id in
 * localStorage (so a reload or a later visit finds the same conversation), and hands the chat
 * client fresh visitor tokens.
 */
export class WidgetSession {
  private current?: WidgetSessionResponse;
  private inflight?: Promise<WidgetSessionResponse>;
  private readonly storageKey: string;

  constructor(
    private readonly serverUrl: string,
    private readonly widgetKey: string,
    private readonly identity?: WidgetIdentity,
  ) {
    this.storageKey = `switchboard.widget.${widgetKey}`;
  }

  /** The last session started, if any. */
  get session(): WidgetSessionResponse | undefined {
    return this.current;
  }

  /** True when this browser already has a conversation through this key. */
  get hasConversation(): boolean {
    return this.read().active === true;
  }

  /** Remembers that the conversation has messages, so the next page load reconnects at once. */
  markActive(): void {
    if (!this.read().active) this.write({ ...this.read(), active: true });
  }

  /** For `ChatClient.getToken`: the current token while it has time left, else a new session's. */
  getToken = async (): Promise<string> => {
    const current = this.current;
    if (current && Date.parse(current.expiresAt) - Date.now() > TOKEN_REUSE_MARGIN_MS) return current.token;
    return (await this.start()).token;
  };

  /** Starts (or resumes) the session; concurrent calls share one request. */
  start(): Promise<WidgetSessionResponse> {
    this.inflight ??= this.request().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async request(): Promise<WidgetSessionResponse> {
    const stored = this.read();
    const body = {
      widgetKey: this.widgetKey,
      ...(this.identity
        ? { userId: this.identity.userId, userHash: this.identity.userHash, ...(this.identity.name ? { name: this.identity.name } : {}) }
        : stored.visitorId
          ? { visitorId: stored.visitorId }
          : {}),
    };
    let res: Response;
    try {
      res = await fetch(`${this.serverUrl}/v1/widget/sessions`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
        credentials: "omit",
      });
    } catch (err) {
      throw new SwitchboardClientError("unavailable", `chat server unreachable: ${String(err)}`);
    }
    const answer = (await res.json().catch(() => undefined)) as (WidgetSessionResponse & { error?: { code: unknown; message: string } }) | undefined;
    if (!res.ok || !answer || answer.error) {
      const code = answer?.error && isErrorCode(answer.error.code) ? answer.error.code : "unavailable";
      // unauthorized/forbidden stop the client; a stale stored visitor id is dropped for next time.
      if (code === "invalid_argument") this.write({});
      throw new SwitchboardClientError(code === "not_found" ? "forbidden" : code, answer?.error?.message ?? `HTTP ${res.status}`);
    }
    if (answer.visitorId && answer.visitorId !== stored.visitorId) this.write({ ...stored, visitorId: answer.visitorId });
    this.current = answer;
    return answer;
  }

  private read(): Stored {
    try {
      return (JSON.parse(localStorage.getItem(this.storageKey) ?? "{}") as Stored) ?? {};
    } catch {
      return {};
    }
  }

  private write(value: Stored): void {
    try {
      localStorage.setItem(this.storageKey, JSON.stringify(value));
    } catch {
      // Storage disabled (private mode, quota): the conversation lasts for this page only.
    }
  }
}
