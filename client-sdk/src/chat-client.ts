import { io as defaultIo, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import { DEFAULT_BACKOFF, fullJitterDelay, type BackoffOptions } from "./backoff.js";
import { ConversationHandle, type ConversationHost, type ConversationSink } from "./conversation-handle.js";
import { TypedEmitter } from "./emitter.js";
import { SwitchboardClientError, isPermanentErrorCode } from "./errors.js";
import { readJwtClaims } from "./jwt-claims.js";
import {
  isErrorCode,
  type ClientToServerEvents,
  type Conversation,
  type ConversationCreatePayload,
  type ConversationListPayload,
  type ConversationSummary,
  type ErrorCode,
  type Message,
  type PresenceInfo,
  type PresenceUpdateEvent,
  type ReceiptReadEvent,
  type RequestEvent,
  type RequestPayload,
  type RequestResult,
  type ServerToClientEvents,
  type SessionEndEvent,
  type TypingEvent,
  type TypingPayload,
} from "./protocol.js";

/** The typed socket.io-client socket the SDK drives. */
export type SwitchboardSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Options accepted by socket.io-client's `io()`. */
export type SocketIoOptions = Partial<ManagerOptions & SocketOptions>;

/** Creates the socket; `io` from socket.io-client by default, injectable for tests. */
export type SocketFactory = (url: string, options: SocketIoOptions) => SwitchboardSocket;

/** Options of {@link ChatClient}. */
export interface ChatClientOptions {
  /** The server's base URL, e.g. `https://chat.example.com`. Required. */
  url: string;
  /**
   * Returns the user's token (a JWT minted by your backend, e.g. with `POST /v1/tokens`).
   * Called before EVERY connect attempt and before the token expires, so returning a fresh
   * token is all a refresh takes. Throw a `SwitchboardClientError` with code `unauthorized`
   * (e.g. the user logged out) to stop connecting; any other throw is retried with backoff.
   * Required.
   */
  getToken: () => Promise<string> | string;
  /** Reconnect backoff (full jitter). Default `{ minDelayMs: 500, maxDelayMs: 15000 }`. */
  reconnect?: Partial<BackoffOptions>;
  /** How long a request waits for its acknowledgement before failing with `unavailable`. Default 10000. */
  ackTimeoutMs?: number;
  /** How long one connect attempt (token, transport and handshake) may take. Default 20000. */
  connectTimeoutMs?: number;
  /** socket.io transports, in order of preference. Default `["websocket"]`. */
  transports?: SocketIoOptions["transports"];
  /**
   * Extra socket.io-client options (path, extraHeaders, …). The SDK owns `autoConnect`,
   * `reconnection`, `forceNew`, `auth` and `transports`; those keys are overridden. Default none.
   */
  socketOptions?: SocketIoOptions;
  /** The socket factory. Default: `io` from socket.io-client. */
  io?: SocketFactory;
}

/** The connection state. */
export type ConnectionState = "disconnected" | "connecting" | "connected";

/** Why the client is (re)connecting. */
export type ConnectingCode =
  /** The application called `connect()`. */
  | "connect_called"
  /** An established connection dropped (network, ping timeout). */
  | "transport_closed"
  /** The server closed the connection without saying why. */
  | "server_disconnect"
  /** The server ended the session with `session:end` (see `reason`); reconnecting. */
  | "session_ended"
  /** A connect attempt failed (unreachable, refused for a non-auth reason). */
  | "connect_failed"
  /** A connect attempt took longer than `connectTimeoutMs`. */
  | "connect_timeout"
  /** `getToken()` threw; retrying. */
  | "token_error";

/** Why the client is disconnected; it stays so until `connect()` is called. */
export type DisconnectedCode =
  /** The application called `disconnect()`. */
  | "disconnect_called"
  /** The token was refused: provide a fresh one and call `connect()`. */
  | "unauthorized"
  /** The user may not connect. */
  | "forbidden";

/** A state transition; tagged by `newState`, each with its own codes. */
export type StateChange =
  | { newState: "connecting"; code: ConnectingCode; reason: string }
  | { newState: "connected"; code: "connected"; reason: string }
  | { newState: "disconnected"; code: DisconnectedCode; reason: string };

/** The payload of the `state` event. */
export type StateChangeEvent = StateChange & { oldState: ConnectionState };

/** Events of {@link ChatClient}. */
export type ChatClientEvents = {
  /** Every state transition. */
  state: StateChangeEvent;
  /**
   * Every message a joined {@link ConversationHandle} delivers (once, in `seq` order per
   * conversation), plus live `message:new` for conversations without a joined handle (best effort).
   */
  message: Message;
  /**
   * A message changed (edited, deleted, reacted to, a thread reply under it); the payload is its
   * full current version. For a joined handle, exactly what the handle emits (once per version,
   * catch-up after a reconnect included); otherwise live events as they come (best effort).
   */
  "message:updated": Message;
  /** A member read a conversation up to `seq`. */
  receipt: ReceiptReadEvent;
  /** A member started or stopped typing. */
  typing: TypingEvent;
  /** A user who shares a conversation went online or offline. */
  presence: PresenceUpdateEvent;
  /** A conversation's members, title or status changed. */
  "conversation:updated": Conversation;
  /** A background operation failed (e.g. a token refresh); the client keeps running. */
  error: SwitchboardClientError;
};

/** Refresh the token this long before its `exp`. */
const REFRESH_LEAD_MS = 30_000;
/** A failed refresh is tried again after this long while the token is still valid. */
const REFRESH_RETRY_MS = 5_000;
/** Browsers and Node fire longer setTimeout delays immediately (32-bit overflow). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * A second `session:end` with `unauthorized` within this long of the first retry means the
 * fresh token was refused too: stop instead of looping.
 */
const SESSION_RETRY_WINDOW_MS = 10_000;

/** socket.io-client's emitWithAck, typed loosely: its generic signature cannot follow a generic event. */
interface AckEmitter {
  emitWithAck(event: string, payload: unknown): Promise<unknown>;
}

/**
 * A Switchboard connection: one socket, an explicit state machine
 * (`disconnected → connecting → connected`), full-jitter reconnects, token refresh, and
 * {@link ConversationHandle}s that ride the shared connection.
 *
 * @example
 * const client = new ChatClient({ url, getToken: () => fetchTokenFromMyBackend() });
 * client.on("state", (s) => console.log(s.oldState, "→", s.newState, s.code));
 * client.connect();
 * const room = client.conversation("c1");
 * room.on("message", render);
 * await room.join();
 * await room.send("hello");
 */
export class ChatClient extends TypedEmitter<ChatClientEvents> {
  private readonly socket: SwitchboardSocket;
  private readonly getToken: () => Promise<string> | string;
  private readonly backoff: BackoffOptions;
  private readonly ackTimeoutMs: number;
  private readonly connectTimeoutMs: number;

  private _state: ConnectionState = "disconnected";
  /** Consecutive failed attempts since the last accepted handshake, for the backoff. */
  private attempt = 0;
  /** Bumped whenever an attempt starts or is abandoned, so late callbacks of an old one are ignored. */
  private epoch = 0;
  /** Bumped on every accepted handshake. */
  private generation = 0;
  private token: string | undefined;
  private lastSessionRetryAt: number | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;

  private readonly handles = new Map<string, { handle: ConversationHandle; sink: ConversationSink }>();
  private readonly host: ConversationHost;

  /** Creates the client; nothing happens on the network until {@link connect}. */
  constructor(options: ChatClientOptions) {
    super();
    this.getToken = options.getToken;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.reconnect };
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 20_000;
    const createSocket = options.io ?? (defaultIo as SocketFactory);
    this.socket = createSocket(options.url, {
      ...options.socketOptions,
      transports: options.transports ?? ["websocket"],
      autoConnect: false,
      // Reconnects are ours: socket.io's own loop knows nothing of tokens or auth failures.
      reconnection: false,
      // A Manager shared with another client would be closed under it by our disconnects.
      forceNew: true,
      timeout: this.connectTimeoutMs,
      auth: (cb) => this.authenticate(cb),
    });
    this.host = this.createHost();
    this.listen();
  }

  /** The current connection state. */
  get state(): ConnectionState {
    return this._state;
  }

  /** The user id (`sub`) of the current token when it is a JWT; `undefined` otherwise. */
  get userId(): string | undefined {
    return this.token === undefined ? undefined : readJwtClaims(this.token)?.sub;
  }

  /**
   * Starts connecting; the client then reconnects by itself until {@link disconnect}. While
   * `connecting` and waiting out a backoff delay, it skips the wait: call it when the app
   * learns the network is back. Otherwise a no-op unless `disconnected`.
   */
  connect(): void {
    if (this._state === "connecting" && this.reconnectTimer !== undefined) {
      this.scheduleAttempt(0);
      return;
    }
    if (this._state !== "disconnected") return;
    this.attempt = 0;
    this.lastSessionRetryAt = undefined;
    this.setState({ newState: "connecting", code: "connect_called", reason: "connect() called" });
    this.scheduleAttempt(0);
  }

  /** Closes the connection and stops reconnecting. Queued sends stay queued until the next `connect()`. */
  disconnect(): void {
    this.abandonAttempt();
    clearTimeout(this.refreshTimer);
    if (this._state === "disconnected") return;
    this.socket.disconnect();
    this.setState({ newState: "disconnected", code: "disconnect_called", reason: "disconnect() called" });
  }

  /**
   * Sends an acknowledged event and resolves with the ack's result. Rejects with a
   * {@link SwitchboardClientError}: the server's code, or `unavailable` when no ack came within
   * `ackTimeoutMs`, the connection dropped, or the client is `disconnected`. While
   * `connecting`, the request waits for the connection (within the same timeout).
   */
  async request<E extends RequestEvent>(event: E, payload: RequestPayload<E>): Promise<RequestResult<E>> {
    if (this._state === "disconnected") {
      throw new SwitchboardClientError("unavailable", "not connected: call connect() first");
    }
    let raw: unknown;
    try {
      raw = await (this.socket.timeout(this.ackTimeoutMs) as unknown as AckEmitter).emitWithAck(event, payload);
    } catch (err) {
      throw SwitchboardClientError.from(err);
    }
    return parseAck<RequestResult<E>>(raw, event);
  }

  /** Creates a conversation the current user is a member of. */
  async createConversation(payload: ConversationCreatePayload): Promise<Conversation> {
    return (await this.request("conversation:create", payload)).conversation;
  }

  /** The current user's conversations, most recent activity first. */
  async listConversations(payload: ConversationListPayload = {}): Promise<ConversationSummary[]> {
    return (await this.request("conversation:list", payload)).conversations;
  }

  /** The presence of up to `LIMITS.presenceQueryMax` users. */
  async queryPresence(userIds: string[]): Promise<Record<string, PresenceInfo>> {
    return (await this.request("presence:query", { userIds })).presence;
  }

  /** The handle of conversation `id`; the same id always returns the same handle. */
  conversation(id: string): ConversationHandle {
    const existing = this.handles.get(id);
    if (existing) return existing.handle;
    let sink: ConversationSink | undefined;
    const handle = new ConversationHandle(id, this.host, (s) => (sink = s));
    this.handles.set(id, { handle, sink: sink! });
    return handle;
  }

  /**
   * Listens to a server → client event as it arrives, for extension events the client does not
   * interpret itself (such as `support:updated`). The listener survives reconnects. Returns the
   * function that removes it.
   */
  onServerEvent<E extends keyof ServerToClientEvents>(event: E, listener: ServerToClientEvents[E]): () => void {
    // Typed loosely: socket.io-client's overloads cannot follow a generic event name.
    const socket = this.socket as unknown as { on(e: string, l: unknown): void; off(e: string, l: unknown): void };
    socket.on(event, listener);
    return () => socket.off(event, listener);
  }

  // ---- state machine ----

  /** The only place the state changes, so every transition is announced exactly once. */
  private setState(change: StateChange): void {
    const oldState = this._state;
    if (oldState === change.newState) return;
    this._state = change.newState;
    this.emit("state", { ...change, oldState });
  }

  private startAttempt(): void {
    this.abandonAttempt();
    const epoch = this.epoch;
    this.connectTimer = setTimeout(() => {
      if (epoch === this.epoch) this.retry("connect_timeout", `no handshake within ${this.connectTimeoutMs} ms`);
    }, this.connectTimeoutMs);
    this.socket.connect();
  }

  /** Forgets the attempt in progress: its timers, and any callback of it still to come. */
  private abandonAttempt(): void {
    this.epoch++;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    this.reconnectTimer = undefined;
    this.connectTimer = undefined;
  }

  /** Closes whatever is open and schedules the next attempt after a full-jitter delay. */
  private retry(code: ConnectingCode, reason: string): void {
    this.abandonAttempt();
    clearTimeout(this.refreshTimer);
    this.socket.disconnect();
    this.setState({ newState: "connecting", code, reason });
    this.scheduleAttempt(fullJitterDelay(this.attempt++, this.backoff));
  }

  /**
   * Starts the next attempt from a fresh macrotask, never synchronously: socket.io-client
   * dispatches decoded packets on a later tick, so packets of the connection just closed
   * (a trailing server DISCONNECT in particular) would otherwise reach the new attempt.
   */
  private scheduleAttempt(delayMs: number): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.startAttempt(), delayMs);
  }

  /** Gives up until the application calls `connect()` again. */
  private stop(code: "unauthorized" | "forbidden", reason: string): void {
    this.abandonAttempt();
    clearTimeout(this.refreshTimer);
    this.socket.disconnect();
    this.setState({ newState: "disconnected", code, reason });
  }

  /** socket.io's `auth` callback: runs on every handshake, so each attempt gets a fresh token. */
  private authenticate(cb: (data: object) => void): void {
    const epoch = this.epoch;
    this.fetchToken().then(
      (token) => {
        if (epoch !== this.epoch) return;
        this.token = token;
        cb({ token });
      },
      (err: unknown) => {
        if (epoch !== this.epoch) return;
        const error = SwitchboardClientError.from(err);
        if (error.code === "unauthorized" || error.code === "forbidden") this.stop(error.code, error.message);
        else this.retry("token_error", `getToken() failed: ${error.message}`);
      },
    );
  }

  private async fetchToken(): Promise<string> {
    const token = await this.getToken();
    if (typeof token !== "string" || token.length === 0) {
      throw new SwitchboardClientError("invalid_argument", "getToken() must return a non-empty string");
    }
    return token;
  }

  private listen(): void {
    const socket = this.socket;
    socket.on("connect", () => {
      clearTimeout(this.connectTimer);
      this.attempt = 0;
      this.generation++;
      this.setState({ newState: "connected", code: "connected", reason: "handshake accepted" });
      this.scheduleRefresh();
      for (const { sink } of this.handles.values()) sink.connected();
    });
    socket.on("connect_error", (err: Error & { data?: unknown }) => {
      if (this._state !== "connecting") return;
      const refusal = parseConnectErrorData(err.data);
      if (refusal?.code === "unauthorized" || refusal?.code === "forbidden") {
        this.stop(refusal.code, refusal.message);
        return;
      }
      this.retry("connect_failed", refusal ? `${refusal.code}: ${refusal.message}` : err.message);
    });
    socket.on("disconnect", (reason) => {
      // Every socket.disconnect() of ours moves the state itself.
      if (reason === "io client disconnect") return;
      this.retry(reason === "io server disconnect" ? "server_disconnect" : "transport_closed", reason);
    });
    socket.on("session:end", (event) => this.onSessionEnd(event));
    socket.on("message:new", (message) => {
      if (!isMessage(message)) return;
      const entry = this.handles.get(message.conversationId);
      // A joined handle orders and de-duplicates first, then reports back through host.delivered.
      if (entry?.sink.active) entry.sink.message(message);
      else this.emit("message", message);
    });
    socket.on("message:updated", (message) => {
      if (!isMessage(message)) return;
      const entry = this.handles.get(message.conversationId);
      // A joined handle drops versions it already has, then reports back through host.updated.
      if (entry?.sink.active) entry.sink.messageUpdated(message);
      else this.emit("message:updated", message);
    });
    socket.on("receipt:read", (event) => {
      this.handles.get(event.conversationId)?.sink.receipt(event);
      this.emit("receipt", event);
    });
    socket.on("typing", (event) => {
      this.handles.get(event.conversationId)?.sink.typing(event);
      this.emit("typing", event);
    });
    socket.on("presence:update", (event) => this.emit("presence", event));
    socket.on("conversation:updated", ({ conversation }) => {
      this.handles.get(conversation.id)?.sink.updated(conversation);
      this.emit("conversation:updated", conversation);
    });
    socket.on("resync", () => {
      for (const { sink } of this.handles.values()) sink.resync();
    });
  }

  private onSessionEnd(event: SessionEndEvent): void {
    const code: ErrorCode = isErrorCode(event.code) ? event.code : "internal";
    const reason = `${code}: ${event.message}`;
    switch (code) {
      case "unauthorized": {
        // Typically the token expired: one immediate reconnect with whatever getToken() returns now.
        const now = Date.now();
        if (this.lastSessionRetryAt !== undefined && now - this.lastSessionRetryAt < SESSION_RETRY_WINDOW_MS) {
          this.stop("unauthorized", event.message);
          return;
        }
        this.lastSessionRetryAt = now;
        this.abandonAttempt();
        clearTimeout(this.refreshTimer);
        this.socket.disconnect();
        this.setState({ newState: "connecting", code: "session_ended", reason });
        this.scheduleAttempt(0);
        return;
      }
      case "forbidden":
        this.stop("forbidden", event.message);
        return;
      case "not_found":
      case "invalid_argument":
      case "payload_too_large":
      case "rate_limited":
      case "conflict":
      case "unavailable":
      case "internal":
        // A shutdown or an overload: come back later, spread out by the backoff.
        this.retry("session_ended", reason);
        return;
    }
  }

  // ---- token refresh ----

  /** Arms the proactive refresh ~30 s before the current token's `exp` (JWTs only). */
  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    const exp = this.token === undefined ? undefined : readJwtClaims(this.token)?.exp;
    if (exp === undefined) return;
    const dueAt = exp * 1000 - REFRESH_LEAD_MS;
    const generation = this.generation;
    this.refreshTimer = setTimeout(
      () => {
        if (generation !== this.generation || this._state !== "connected") return;
        // Long-lived tokens overflow the timer, which then fires early; just re-arm.
        if (Date.now() < dueAt) this.scheduleRefresh();
        else void this.refreshToken(generation, exp);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, dueAt - Date.now())),
    );
  }

  private async refreshToken(generation: number, currentExp: number): Promise<void> {
    const stale = (): boolean => generation !== this.generation || this._state !== "connected";
    try {
      const token = await this.fetchToken();
      if (stale()) return;
      const exp = readJwtClaims(token)?.exp;
      if (exp !== undefined && exp <= currentExp) {
        // Sending a token that is no newer would re-arm the timer for "now" forever; the
        // server's session:end and the reconnect that follows will fetch a token again.
        throw new SwitchboardClientError("invalid_argument", "getToken() returned a token that does not expire later");
      }
      await this.request("auth:refresh", { token });
      if (stale()) return;
      this.token = token;
      this.scheduleRefresh();
    } catch (err) {
      if (stale()) return;
      const error = SwitchboardClientError.from(err);
      this.emit("error", error);
      // The old token still works until exp: a passing failure is worth another try before then.
      if (!isPermanentErrorCode(error.code) && currentExp * 1000 - Date.now() > REFRESH_RETRY_MS) {
        this.refreshTimer = setTimeout(() => {
          if (!stale()) void this.refreshToken(generation, currentExp);
        }, REFRESH_RETRY_MS);
      }
    }
  }

  // ---- handles ----

  private createHost(): ConversationHost {
    // Closures over `this`: handles get exactly these capabilities, nothing else of the client.
    const client = this;
    return {
      get generation() {
        return client.generation;
      },
      get connected() {
        return client._state === "connected";
      },
      get userId() {
        return client.userId;
      },
      request: (event, payload) => this.request(event, payload),
      notify: (event: "typing:start" | "typing:stop", payload: TypingPayload) => {
        this.socket.emit(event, payload);
      },
      retryDelay: (attempt) => fullJitterDelay(attempt, this.backoff),
      delivered: (message) => this.emit("message", message),
      updated: (message) => this.emit("message:updated", message),
    };
  }
}

/** Validates an acknowledgement that crossed the wire and unwraps it. */
function parseAck<T>(raw: unknown, event: string): T {
  if (typeof raw !== "object" || raw === null || typeof (raw as { ok?: unknown }).ok !== "boolean") {
    throw new SwitchboardClientError("internal", `malformed acknowledgement for ${event}`);
  }
  const ack = raw as { ok: true } | { ok: false; error?: unknown };
  switch (ack.ok) {
    case true:
      return ack as T;
    case false:
      throw SwitchboardClientError.fromWire(ack.error);
  }
}

/** Reads `connect_error` data; `undefined` when it is not a Switchboard refusal. */
function parseConnectErrorData(data: unknown): { code: ErrorCode; message: string } | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const { code, message } = data as { code?: unknown; message?: unknown };
  if (!isErrorCode(code)) return undefined;
  return { code, message: typeof message === "string" ? message : code };
}

function isMessage(value: unknown): value is Message {
  if (typeof value !== "object" || value === null) return false;
  const m = value as Partial<Message>;
  return typeof m.conversationId === "string" && typeof m.seq === "number" && Number.isInteger(m.seq);
}
