import createClient, { type Client } from "openapi-fetch";
import { errorFromResponse } from "./errors.js";
import type { components, paths } from "./generated/openapi.js";
import { retryingFetch, type RetryOptions } from "./retrying-fetch.js";
import { mintUserToken, type LocalTokenSigner, type UserTokenInput } from "./user-token.js";
import { verifyWebhook, type VerifyWebhookOptions, type WebhookHeaders } from "./webhook-verify.js";

type Schemas = components["schemas"];
/** A stored message, as the API returns it. */
export type Message = Schemas["Message"];
/** A user. */
export type User = Schemas["User"];
/** A conversation with its members. */
export type Conversation = Schemas["Conversation"];
/** An API key's metadata (never its secret). */
export type ApiKey = Schemas["ApiKey"];
/** A newly created or rotated API key, with its secret, shown only once. */
export type ApiKeyCreated = Schemas["ApiKeyCreated"];
/** A webhook endpoint (never its secret). */
export type WebhookEndpoint = Schemas["WebhookEndpoint"];
/** One delivery of one event to one endpoint, with its attempts. */
export type WebhookDelivery = Schemas["WebhookDelivery"];
/** An uploaded file with its signed links. */
export type Upload = Schemas["Upload"];
/** A minted user token. */
export type UserToken = Schemas["UserToken"];

type Query<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { requestBody?: { content: { "application/json": infer B } } } ? B : never;

/** Options of {@link Switchboard}. */
export interface SwitchboardOptions {
  /** The server's public URL, for example `https://chat.example.com`. */
  baseUrl: string;
  /** An API key (`Authorization: Bearer`); the scope each method needs is the route's (README, HTTP API). */
  apiKey: string;
  /** Retries of 429, 5xx and network errors (default 3, full-jitter backoff, `Retry-After` honoured). */
  retry?: RetryOptions;
  /** The server's `JWT_SECRET` (and issuer/audience): {@link Switchboard.createUserToken} then mints locally, without a request. */
  tokenSigner?: LocalTokenSigner;
  /** A `fetch` to send with (default the global one). */
  fetch?: typeof fetch;
}

/** Options of the history iterator. */
export interface IterateMessagesOptions {
  /** Start after this `seq` (default 0: from the first message). */
  afterSeq?: number;
  /** Page size, 1–100 (default 100). */
  pageSize?: number;
  /** Only the replies of this thread. */
  threadId?: string;
}

/**
 * The Switchboard HTTP API for backends: `new Switchboard({ baseUrl, apiKey })`, then resource
 * methods (`users`, `conversations`, `messages`, `tokens`, `apiKeys`, `webhooks`, `uploads`,
 * `widgetKeys`). Every method returns the parsed body and throws `SwitchboardApiError` otherwise.
 * Types come from the server's OpenAPI document (`src/generated/openapi.ts`).
 */
export class Switchboard {
  /** The typed openapi-fetch client underneath, for routes without a method here. */
  readonly api: Client<paths>;
  private readonly plainFetch: (request: Request) => Promise<Response>;
  private readonly tokenSigner: LocalTokenSigner | undefined;

  constructor(options: SwitchboardOptions) {
    if (!options.baseUrl) throw new TypeError("Switchboard: pass `baseUrl`, the server's URL (SWITCHBOARD_URL).");
    if (!options.apiKey) throw new TypeError("Switchboard: pass `apiKey`, an API key of the server (SWITCHBOARD_API_KEY).");
    const inner = options.fetch ?? globalThis.fetch;
    this.plainFetch = (request) => inner(request);
    this.tokenSigner = options.tokenSigner;
    this.api = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      headers: { authorization: `Bearer ${options.apiKey}` },
      fetch: retryingFetch({ ...options.retry, fetch: inner }),
    });
  }

  /** `GET /healthz`: the process answers. */
  async health(): Promise<Schemas["Health"]> {
    return unwrap(await this.api.GET("/healthz"));
  }

  /**
   * `GET /readyz` without retries: `ready` false with the failing `checks` (store, redis, node)
   * instead of an error, since "not ready" is the answer a caller asked for.
   */
  async readiness(): Promise<{ ready: boolean; status: number; body: Schemas["Readiness"] }> {
    const { data, error, response } = await this.api.GET("/readyz", { fetch: this.plainFetch });
    if (response.ok) return { ready: true, status: response.status, body: data as Schemas["Readiness"] };
    if (response.status === 503 && error && typeof error === "object" && "checks" in error) return { ready: false, status: 503, body: error as Schemas["Readiness"] };
    throw errorFromResponse(response, error);
  }

  /**
   * A user token for the Socket.IO handshake: minted locally when `tokenSigner` was given
   * (no request, the server's own claims), else through `POST /v1/tokens` (an admin key).
   */
  async createUserToken(input: UserTokenInput): Promise<UserToken> {
    if (this.tokenSigner) return mintUserToken(this.tokenSigner, input);
    return this.tokens.create(input);
  }

  /** Users and their notification settings. */
  readonly users = {
    /** `POST /v1/users`: create or update. */
    upsert: async (input: Body<"/v1/users", "post">) => unwrap(await this.api.POST("/v1/users", { body: input })),
    /** `GET /v1/users/:id`. */
    get: async (id: string) => unwrap(await this.api.GET("/v1/users/{id}", { params: { path: { id } } })),
    /** `GET /v1/users/:id/notification-preferences`. */
    getNotificationPreferences: async (id: string) => unwrap(await this.api.GET("/v1/users/{id}/notification-preferences", { params: { path: { id } } })),
    /** `PATCH /v1/users/:id/notification-preferences`. */
    updateNotificationPreferences: async (id: string, patch: Body<"/v1/users/{id}/notification-preferences", "patch">) =>
      unwrap(await this.api.PATCH("/v1/users/{id}/notification-preferences", { params: { path: { id } }, body: patch })),
    /** `PUT /v1/users/:id/mutes/:conversationId`: mute, until `until` or unmuted. */
    mute: async (id: string, conversationId: string, options: Body<"/v1/users/{id}/mutes/{conversationId}", "put"> = {}) =>
      unwrap(await this.api.PUT("/v1/users/{id}/mutes/{conversationId}", { params: { path: { id, conversationId } }, body: options })),
    /** `DELETE /v1/users/:id/mutes/:conversationId`. */
    unmute: async (id: string, conversationId: string): Promise<void> => {
      unwrap(await this.api.DELETE("/v1/users/{id}/mutes/{conversationId}", { params: { path: { id, conversationId } } }));
    },
    /** `GET /v1/users/:id/sms-consent`: the consent ledger of the user's number. */
    getSmsConsent: async (id: string) => unwrap(await this.api.GET("/v1/users/{id}/sms-consent", { params: { path: { id } } })),
    /** `POST /v1/users/:id/sms-consent`: record consent you collected. */
    recordSmsConsent: async (id: string, input: Body<"/v1/users/{id}/sms-consent", "post">) =>
      unwrap(await this.api.POST("/v1/users/{id}/sms-consent", { params: { path: { id } }, body: input })),
  };

  /** Conversations, members and read positions. */
  readonly conversations = {
    /** `POST /v1/conversations`; a `direct` pair that exists is returned as is. */
    create: async (input: Body<"/v1/conversations", "post">) => unwrap(await this.api.POST("/v1/conversations", { body: input })),
    /** `GET /v1/conversations/:id`. */
    get: async (id: string) => unwrap(await this.api.GET("/v1/conversations/{id}", { params: { path: { id } } })),
    /** `POST /v1/conversations/:id/members` (idempotent). */
    addMember: async (id: string, input: Body<"/v1/conversations/{id}/members", "post">) =>
      unwrap(await this.api.POST("/v1/conversations/{id}/members", { params: { path: { id } }, body: input })),
    /** `DELETE /v1/conversations/:id/members/:userId` (idempotent). */
    removeMember: async (id: string, userId: string) =>
      unwrap(await this.api.DELETE("/v1/conversations/{id}/members/{userId}", { params: { path: { id, userId } } })),
    /** `POST /v1/conversations/:id/read`: the member read up to `seq` (never moves back). */
    markRead: async (id: string, input: Body<"/v1/conversations/{id}/read", "post">) =>
      unwrap(await this.api.POST("/v1/conversations/{id}/read", { params: { path: { id } }, body: input })),
    /** `GET /v1/conversations/:id/changes`: messages changed after revision `afterRev`. */
    changes: async (id: string, query: Query<"/v1/conversations/{id}/changes", "get">) =>
      unwrap(await this.api.GET("/v1/conversations/{id}/changes", { params: { path: { id }, query } })),
  };

  /** Messages: send, history, edits, deletes, reactions, offline deliveries. */
  readonly messages = {
    /** `POST /v1/conversations/:id/messages`: 201 the new message, or the original on a retry with the same `clientMessageId`. */
    send: async (conversationId: string, input: Body<"/v1/conversations/{id}/messages", "post">) =>
      unwrap(await this.api.POST("/v1/conversations/{id}/messages", { params: { path: { id: conversationId } }, body: input })),
    /** `GET /v1/conversations/:id/messages`: one page, oldest first, with `hasMore`. */
    list: async (conversationId: string, query: Query<"/v1/conversations/{id}/messages", "get"> = {}) =>
      unwrap(await this.api.GET("/v1/conversations/{id}/messages", { params: { path: { id: conversationId }, query } })),
    /**
     * Every message after `afterSeq`, oldest first, one page at a time: pages are keyed by the
     * last `seq` seen, so messages sent meanwhile are picked up and none is skipped or repeated.
     */
    iterate: (conversationId: string, options: IterateMessagesOptions = {}): AsyncIterableIterator<Message> => this.iterateMessages(conversationId, options),
    /** `PATCH /v1/conversations/:id/messages/:messageId`: new text (and attachments). */
    edit: async (conversationId: string, messageId: string, input: Body<"/v1/conversations/{id}/messages/{messageId}", "patch">) =>
      unwrap(await this.api.PATCH("/v1/conversations/{id}/messages/{messageId}", { params: { path: { id: conversationId, messageId } }, body: input })),
    /** `DELETE /v1/conversations/:id/messages/:messageId`: the deleted message (it keeps its `seq`). */
    delete: async (conversationId: string, messageId: string) =>
      unwrap(await this.api.DELETE("/v1/conversations/{id}/messages/{messageId}", { params: { path: { id: conversationId, messageId } } })),
    /** `POST …/reactions`: the message with the reaction. */
    react: async (conversationId: string, messageId: string, input: Body<"/v1/conversations/{id}/messages/{messageId}/reactions", "post">) =>
      unwrap(await this.api.POST("/v1/conversations/{id}/messages/{messageId}/reactions", { params: { path: { id: conversationId, messageId } }, body: input })),
    /** `DELETE …/reactions?userId=&emoji=`: the message without it. */
    unreact: async (conversationId: string, messageId: string, query: Query<"/v1/conversations/{id}/messages/{messageId}/reactions", "delete">) =>
      unwrap(await this.api.DELETE("/v1/conversations/{id}/messages/{messageId}/reactions", { params: { path: { id: conversationId, messageId }, query } })),
    /** `GET /v1/messages/:id/deliveries`: the message's offline notifications with their timelines. */
    deliveries: async (messageId: string) => unwrap(await this.api.GET("/v1/messages/{id}/deliveries", { params: { path: { id: messageId } } })),
  };

  /** User tokens minted by the server. */
  readonly tokens = {
    /** `POST /v1/tokens` (admin). */
    create: async (input: Body<"/v1/tokens", "post">) => unwrap(await this.api.POST("/v1/tokens", { body: input })),
  };

  /** API keys (admin). */
  readonly apiKeys = {
    /** `POST /v1/api-keys`: the key with its secret, shown only here. */
    create: async (input: Body<"/v1/api-keys", "post">) => unwrap(await this.api.POST("/v1/api-keys", { body: input })),
    /** `GET /v1/api-keys`: revoked ones included, never secrets. */
    list: async () => (unwrap(await this.api.GET("/v1/api-keys"))).apiKeys,
    /** `POST /v1/api-keys/:id/rotate`: a new secret; the old one works until `previousKeyExpiresAt`. */
    rotate: async (id: string) => unwrap(await this.api.POST("/v1/api-keys/{id}/rotate", { params: { path: { id } } })),
    /** `DELETE /v1/api-keys/:id`: revoke. */
    revoke: async (id: string): Promise<void> => {
      unwrap(await this.api.DELETE("/v1/api-keys/{id}", { params: { path: { id } } }));
    },
  };

  /** Webhook endpoints, their delivery logs and replays (admin), and signature verification. */
  readonly webhooks = {
    /** `POST /v1/webhooks`: the endpoint with its signing `secret`. */
    create: async (input: Body<"/v1/webhooks", "post">) => unwrap(await this.api.POST("/v1/webhooks", { body: input })),
    /** `GET /v1/webhooks`. */
    list: async () => (unwrap(await this.api.GET("/v1/webhooks"))).webhooks,
    /** `GET /v1/webhooks/:id`. */
    get: async (id: string) => unwrap(await this.api.GET("/v1/webhooks/{id}", { params: { path: { id } } })),
    /** `PATCH /v1/webhooks/:id`. */
    update: async (id: string, patch: Body<"/v1/webhooks/{id}", "patch">) => unwrap(await this.api.PATCH("/v1/webhooks/{id}", { params: { path: { id } }, body: patch })),
    /** `DELETE /v1/webhooks/:id`, with its deliveries. */
    delete: async (id: string): Promise<void> => {
      unwrap(await this.api.DELETE("/v1/webhooks/{id}", { params: { path: { id } } }));
    },
    /** `GET /v1/webhooks/:id/secret`. */
    getSecret: async (id: string) => unwrap(await this.api.GET("/v1/webhooks/{id}/secret", { params: { path: { id } } })),
    /** `POST /v1/webhooks/:id/rotate-secret`: the old secret keeps signing during the grace period. */
    rotateSecret: async (id: string) => unwrap(await this.api.POST("/v1/webhooks/{id}/rotate-secret", { params: { path: { id } } })),
    /** `GET /v1/webhooks/:id/deliveries`: one page, newest first. */
    listDeliveries: async (id: string, query: Query<"/v1/webhooks/{id}/deliveries", "get"> = {}) =>
      unwrap(await this.api.GET("/v1/webhooks/{id}/deliveries", { params: { path: { id }, query } })),
    /** Every delivery of the log, newest first, paging by the last delivery's id (`before`). */
    iterateDeliveries: (id: string, options: { status?: Query<"/v1/webhooks/{id}/deliveries", "get">["status"]; pageSize?: number } = {}): AsyncIterableIterator<WebhookDelivery> =>
      this.iterateDeliveries(id, options),
    /** `POST /v1/webhooks/:id/deliveries/:deliveryId/replay`: that event again, as a new delivery. */
    replayDelivery: async (id: string, deliveryId: string) =>
      unwrap(await this.api.POST("/v1/webhooks/{id}/deliveries/{deliveryId}/replay", { params: { path: { id, deliveryId } } })),
    /** `POST /v1/webhooks/:id/replay`: every event of a time range again. */
    replay: async (id: string, input: Body<"/v1/webhooks/{id}/replay", "post">) =>
      unwrap(await this.api.POST("/v1/webhooks/{id}/replay", { params: { path: { id } }, body: input })),
    /** Verifies a received webhook request and returns its payload; see {@link verifyWebhook}. */
    verify: <T = unknown>(headers: WebhookHeaders, body: string | Uint8Array, options: VerifyWebhookOptions): T => verifyWebhook<T>(headers, body, options),
  };

  /** Uploads (files to attach to messages). */
  readonly uploads = {
    /** `POST /v1/uploads`: the raw bytes; `userId` uploads for that user. A retried upload is a new upload (the unused one expires). */
    create: async (data: Uint8Array | ArrayBuffer | Blob, options: { name?: string; userId?: string; contentType?: string } = {}) =>
      unwrap(
        await this.api.POST("/v1/uploads", {
          params: { query: { ...(options.name ? { name: options.name } : {}), ...(options.userId ? { userId: options.userId } : {}) } },
          body: data as unknown as string,
          bodySerializer: (body: unknown) => body as BodyInit,
          headers: { "content-type": options.contentType ?? "application/octet-stream" },
        }),
      ),
    /** `GET /v1/uploads/:id`: with fresh signed links. */
    get: async (id: string) => unwrap(await this.api.GET("/v1/uploads/{id}", { params: { path: { id } } })),
  };

  /** Widget keys of the support widget (admin). */
  readonly widgetKeys = {
    /** `POST /v1/widget-keys`: the key with its `identitySecret`. */
    create: async (input: Body<"/v1/widget-keys", "post">) => unwrap(await this.api.POST("/v1/widget-keys", { body: input })),
    /** `GET /v1/widget-keys`, without secrets. */
    list: async () => (unwrap(await this.api.GET("/v1/widget-keys"))).widgetKeys,
    /** `GET /v1/widget-keys/:id`, with its `identitySecret`. */
    get: async (id: string) => unwrap(await this.api.GET("/v1/widget-keys/{id}", { params: { path: { id } } })),
    /** `DELETE /v1/widget-keys/:id`: no new sessions. */
    revoke: async (id: string): Promise<void> => {
      unwrap(await this.api.DELETE("/v1/widget-keys/{id}", { params: { path: { id } } }));
    },
  };

  private async *iterateMessages(conversationId: string, options: IterateMessagesOptions): AsyncIterableIterator<Message> {
    let afterSeq = options.afterSeq ?? 0;
    const limit = options.pageSize ?? 100;
    for (;;) {
      const page = await this.messages.list(conversationId, { afterSeq, limit, ...(options.threadId ? { threadId: options.threadId } : {}) });
      for (const message of page.messages) {
        afterSeq = message.seq;
        yield message;
      }
      if (!page.hasMore || page.messages.length === 0) return;
    }
  }

  private async *iterateDeliveries(id: string, options: { status?: Query<"/v1/webhooks/{id}/deliveries", "get">["status"]; pageSize?: number }): AsyncIterableIterator<WebhookDelivery> {
    let before: string | undefined;
    for (;;) {
      const page = await this.webhooks.listDeliveries(id, {
        limit: options.pageSize ?? 100,
        ...(options.status ? { status: options.status } : {}),
        ...(before ? { before } : {}),
      });
      for (const delivery of page.deliveries) {
        before = delivery.id;
        yield delivery;
      }
      if (!page.hasMore || page.deliveries.length === 0) return;
    }
  }
}

/** The body of a 2xx answer, or the `SwitchboardApiError` of any other. */
function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok) return result.data as T;
  throw errorFromResponse(result.response, result.error);
}
