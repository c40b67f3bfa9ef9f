import { createHash, timingSafeEqual } from "node:crypto";
import { serveStatic } from "@hono/node-server/serve-static";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { matchedRoutes } from "hono/route";
import { secureHeaders } from "hono/secure-headers";
import type { ApiKeyService } from "../auth/api-key-service.js";
import type { TokenService } from "../auth/token-service.js";
import type { Config } from "../config.js";
import type { Actor } from "../core/actor.js";
import type { ConversationService } from "../core/conversation-service.js";
import { HTTP_STATUS, SwitchboardError, toSwitchboardError } from "../core/errors.js";
import type { MessageService } from "../core/message-service.js";
import { validationError } from "../core/schemas.js";
import type { UserService } from "../core/user-service.js";
import type { IdempotencyStore } from "../idempotency/idempotency-store.js";
import type { RateLimit } from "../limits/rate-limit.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics/metrics.js";
import type { WebhookService } from "../webhooks/webhook-service.js";
import { DOCS_CSP, renderDocsPage, type OpenApiDocumentLike } from "./http-docs.js";
import {
  API_KEY_SCHEME,
  addMemberRoute,
  addReactionRoute,
  changesRoute,
  createApiKeyRoute,
  createConversationRoute,
  createTokenRoute,
  deleteMessageRoute,
  editMessageRoute,
  getConversationRoute,
  getUserRoute,
  healthRoute,
  historyRoute,
  listApiKeysRoute,
  markReadRoute,
  readinessRoute,
  removeMemberRoute,
  removeReactionRoute,
  revokeApiKeyRoute,
  rotateApiKeyRoute,
  sendMessageRoute,
  upsertUserRoute,
  type HttpEnv,
} from "./http-routes.js";
import { DEFAULT_API_KEY_SCOPES } from "./http-schemas.js";
import { registerWebhookRoutes } from "./http-webhook-routes.js";
import { registerDemoRoutes, type DemoHttpDeps } from "./http-demo-routes.js";
import { registerWidgetKeyRoutes, registerWidgetSessionRoute, widgetSessionCors, widgetUploadsCors, WIDGET_SESSIONS_PATH, type SupportHttpDeps } from "./http-support-routes.js";
import { idempotency } from "./http-idempotency.js";
import { registerDeliveryRoutes, registerMyDeliveryRoutes, type DeliveryHttpDeps } from "./http-delivery-routes.js";
import { requireUser, USER_TOKEN_SCHEME } from "./http-user-auth.js";
import { registerPushRoutes } from "./http-push-routes.js";
import { registerSmsRoutes, SANDBOX_INBOUND_PATH } from "./http-sms-routes.js";
import { registerEmailRoutes, type EmailHttpDeps } from "./http-email-routes.js";
import { registerUploadRoutes, UPLOADS_PATH, type UploadHttpDeps } from "./http-upload-routes.js";
import type { InflightTracker } from "./inflight-tracker.js";
import type { OriginPolicy } from "./origin-policy.js";

/** Whether this node can serve: `checks` names each dependency and `ok` or what is wrong. */
export type Readiness = () => Promise<{ ok: boolean; checks: Record<string, string> }>;

/** What the HTTP API needs, built by the composition root. */
export interface HttpApiDeps {
  config: Config;
  logger: Logger;
  tokens: TokenService;
  apiKeys: ApiKeyService;
  users: UserService;
  conversations: ConversationService;
  messages: MessageService;
  /** `http`: requests per API key; `messages`: sends per sender, shared with the socket gateway. */
  limits: { http: RateLimit; messages: RateLimit };
  /** Backs `GET /readyz`. */
  readiness: Readiness;
  /** Every request is counted here so a graceful shutdown can wait for it. */
  inflight: InflightTracker;
  /** Which browser origins get CORS headers. */
  originAllowed: OriginPolicy;
  /** Absolute path of the demo app's static files, served at `/`. */
  demoDir: string;
  /** The persistence driver's name, reported by `/readyz`. */
  storeName: string;
  /** Backs the `Idempotency-Key` header of POST routes; absent (some tests): the header is ignored. */
  idempotency?: IdempotencyStore;
  /** Backs `/v1/webhooks`; absent: those routes answer 503. */
  webhooks?: WebhookService;
  /** Request counts and durations, messages sent over HTTP, and `GET /metrics`; absent: no `/metrics`. */
  metrics?: Metrics;
  /** When set, `GET /metrics` requires `Authorization: Bearer <metricsToken>` (`METRICS_TOKEN`). */
  metricsToken?: string;
  /** The support desk behind `/v1/widget/sessions` and `/v1/widget-keys`; absent: those routes answer 503. */
  support?: SupportHttpDeps;
  /** The demo app's bundles and demo sign-in; absent: not served. */
  demo?: DemoHttpDeps;
  /** Uploads (`/v1/uploads`) and their signed downloads; absent: not served. */
  uploads?: UploadHttpDeps;
  /** The offline fallback: push subscriptions, SMS webhooks and sandbox, preferences, delivery timelines; absent: not served. */
  offline?: {
    push: Parameters<typeof registerPushRoutes>[1];
    sms: Parameters<typeof registerSmsRoutes>[1];
    /** The unsubscribe link of emails (served, answering 404, while email is off). */
    email?: EmailHttpDeps;
    settings: DeliveryHttpDeps;
  };
}

/** Lifetime of a minted user token when the request does not say. */
const DEFAULT_TOKEN_TTL_SECONDS = 3600;

/** HTTP calls are made by a trusted backend: membership rules do not bind it, scopes do. */
const BACKEND: Actor = { kind: "backend" };

/** CSP of JSON responses: they are never rendered, so nothing may load or frame them. */
const API_CSP = {
  defaultSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

/**
 * CSP of the demo pages: scripts, styles and connections (Socket.IO) from this origin only,
 * never inline; the widget and console of the demo app are written to live within it.
 */
const DEMO_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Paths whose access log lines are debug-level: probes hit them every few seconds. */
const PROBE_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * The HTTP binding of Switchboard (PROTOCOL.md section 5): the `/v1` API authenticated by API
 * keys, health probes, the OpenAPI document and its HTML rendering, and the demo app's files.
 *
 * Cross-cutting rules live here once: request ids, access log, security headers, CORS, body
 * size, API key and rate limit, and the single mapping of errors to `{ error: { code, message } }`.
 * Handlers only validate (through the route schemas), call a service and shape the result.
 */
export function createHttpApi(deps: HttpApiDeps): OpenAPIHono<HttpEnv> {
  const { config, logger, apiKeys, limits } = deps;

  const app = new OpenAPIHono<HttpEnv>({
    // Validation failures throw, so they reach onError and get the same shape as every other
    // error: 400 naming the fields, or 413 for an overlong text (as the socket answers).
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues);
    },
  });

  app.onError((err, c) => {
    const { error, status } = toHttpError(err);
    if (error.code === "internal") {
      logger.error({ err, reqId: c.get("requestId"), method: c.req.method, path: c.req.path }, "request failed");
    }
    if (error.retryAfterMs !== undefined) c.header("Retry-After", String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
    return c.json({ error: error.toWire() }, status);
  });

  app.notFound((c) => c.json({ error: { code: "not_found", message: `No route ${c.req.method} ${c.req.path}.` } }, 404));

  app.use(requestId());
  app.use(accessLog(deps));
  app.use(secureHeaders({ contentSecurityPolicy: API_CSP, overwrite: false }));
  // Before the API's CORS: widget host pages are on origins of their own (see http-support-routes.ts).
  app.use(WIDGET_SESSIONS_PATH, widgetSessionCors(deps.support));
  // The widget uploads attachments with the visitor's token from the same host pages.
  // (hono's `/v1/uploads/*` matches `/v1/uploads` itself too.)
  app.use(`${UPLOADS_PATH}/*`, widgetUploadsCors(deps.support));
  app.use(
    cors({
      origin: (origin, c) => (deps.originAllowed(origin || undefined, c.req.header("host")) && origin ? origin : null),
      allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
      allowHeaders: ["Authorization", "Content-Type", "X-Request-Id", "Idempotency-Key"],
      exposeHeaders: ["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "X-Request-Id", "Idempotent-Replayed", "Content-Disposition", "Content-Range"],
      maxAge: 600,
    }),
  );
  const limitBody = bodyLimit({
    maxSize: config.limits.httpBodyBytes,
    onError: () => {
      throw new SwitchboardError("payload_too_large", `Request body is larger than ${config.limits.httpBodyBytes} bytes (MAX_HTTP_BODY_BYTES).`);
    },
  });
  // An upload's body is a file, streamed to disk under its own limit (UPLOAD_MAX_BYTES), never
  // buffered here; the SMS sandbox's pictures are checked against a limit of their own.
  const ownBodyLimit = (c: Context<HttpEnv>): boolean =>
    c.req.method === "POST" && ((deps.uploads !== undefined && c.req.path === UPLOADS_PATH) || (deps.offline !== undefined && c.req.path === SANDBOX_INBOUND_PATH));
  app.use((c, next) => (ownBodyLimit(c) ? next() : limitBody(c, next)));

  /** Takes one request from the caller's `/v1` budget, with the RateLimit headers (also on a 429). */
  const countRequest = async (c: Context<HttpEnv>, caller: string): Promise<void> => {
    c.header("RateLimit-Limit", String(limits.http.points));
    try {
      c.header("RateLimit-Remaining", String(await limits.http.consume(caller)));
    } catch (err) {
      c.header("RateLimit-Remaining", "0");
      throw err;
    }
  };

  // The one /v1 route without an API key (a public widget key instead): it answers before the key check.
  registerWidgetSessionRoute(app, deps.support);
  // Called by browsers with the user's own token, and by the SMS provider with its signature.
  if (deps.offline) {
    // The user-token routes count against the same per-caller budget as API keys, keyed by user.
    for (const pattern of ["/v1/me/*", "/v1/push/subscriptions"]) {
      app.use(pattern, async (c, next) => {
        const user = await requireUser(c, deps.tokens);
        await countRequest(c, `user:${user.userId}`);
        await next();
      });
    }
    registerPushRoutes(app, deps.offline.push);
    registerMyDeliveryRoutes(app, deps.offline.settings);
    registerSmsRoutes(app, deps.offline.sms);
    registerEmailRoutes(app, deps.offline.email ?? {});
  }

  // Called with a user token or an API key (the download link: with neither), so before the API key check.
  if (deps.uploads) registerUploadRoutes(app, deps.uploads, countRequest);

  // Authentication and the per-key rate limit, before any /v1 route (its scope check included).
  app.use("/v1/*", async (c, next) => {
    const principal = await apiKeys.verify(c.req.header("authorization"));
    c.set("principal", principal);
    await countRequest(c, principal.keyId);
    await next();
  });

  // After authentication (records are per API key), before the routes: a replay runs nothing.
  if (deps.idempotency) app.use("/v1/*", idempotency({ store: deps.idempotency, logger }));

  registerApiRoutes(app, deps);
  registerWebhookRoutes(app, deps.webhooks);
  registerWidgetKeyRoutes(app, deps.support);
  if (deps.offline) registerDeliveryRoutes(app, deps.offline.settings);

  app.openAPIRegistry.registerComponent("securitySchemes", API_KEY_SCHEME, {
    type: "http",
    scheme: "bearer",
    description:
      "An API key: `Authorization: Bearer <key>`. The scope each route needs is listed in its security requirement; " +
      "`admin` implies `read` and `write`.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", USER_TOKEN_SCHEME, {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A user token (the JWT the app connects with): `Authorization: Bearer <token>`. The route acts for the token's user.",
  });

  // Generated once, on first use: the routes are fixed once this function returns.
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  const openApiDocument = () =>
    (document ??= app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "Switchboard HTTP API",
        version: "1",
        description:
          "Server-to-server API of Switchboard, a self-hostable realtime chat server: provision users and conversations, " +
          "send messages (delivered live like socket sends), read history, and mint user tokens for the Socket.IO handshake.",
      },
      servers: [{ url: config.publicUrl }],
    }));

  app.get("/openapi.json", (c) => c.json(openApiDocument()));
  app.get("/docs", (c) => {
    c.header("Content-Security-Policy", DOCS_CSP);
    return c.html(renderDocsPage(openApiDocument() as unknown as OpenApiDocumentLike));
  });

  // Prometheus scrape endpoint: outside /v1, so no API key; meant for the private network
  // (see docs/scaling-out.md), optionally behind METRICS_TOKEN.
  const { metrics, metricsToken } = deps;
  if (metrics) {
    app.get("/metrics", async (c) => {
      if (metricsToken !== undefined && !bearerMatches(c.req.header("authorization"), metricsToken)) {
        c.header("WWW-Authenticate", 'Bearer realm="metrics"');
        throw new SwitchboardError("unauthorized", "GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.");
      }
      return c.body(await metrics.render(), 200, { "Content-Type": metrics.contentType, "Cache-Control": "no-store" });
    });
  }

  // The demo app. serveStatic refuses `..`, `//`, backslashes and encoded separators itself;
  // dotfiles are refused here so nothing like `.env` dropped beside the pages leaks.
  const demoPage = serveStatic({ root: deps.demoDir, path: "index.html" });
  app.use("/*", async (c, next) => {
    await next();
    if (c.res.headers.get("content-type")?.startsWith("text/html") && !c.res.headers.has("Content-Security-Policy")) {
      c.res.headers.set("Content-Security-Policy", DEMO_CSP);
    }
  });
  if (deps.demo) registerDemoRoutes(app, deps.demo);
  app.get("/", demoPage);
  app.get("/demo", serveStatic({ root: deps.demoDir, path: "demo.html" }));
  app.get("/*", async (c, next) => {
    if (c.req.path.split("/").some((segment) => segment.startsWith("."))) return next();
    return serveStatic({ root: deps.demoDir })(c, next);
  });

  return app;
}

/** The `/v1` handlers and the probes: validate (done by the route), call a service, shape the result. */
function registerApiRoutes(app: OpenAPIHono<HttpEnv>, deps: HttpApiDeps): void {
  const { users, conversations, messages, tokens, apiKeys, limits, config } = deps;

  app.openapi(upsertUserRoute, async (c) => c.json(await users.upsert(c.req.valid("json")), 200));

  app.openapi(getUserRoute, async (c) => c.json(await users.get(c.req.valid("param").id), 200));

  app.openapi(createConversationRoute, async (c) => c.json(await conversations.create(BACKEND, c.req.valid("json")), 201));

  app.openapi(getConversationRoute, async (c) => c.json(await conversations.get(BACKEND, c.req.valid("param").id), 200));

  app.openapi(addMemberRoute, async (c) => {
    const { userId, role } = c.req.valid("json");
    return c.json(await conversations.addMember(c.req.valid("param").id, userId, role), 200);
  });

  app.openapi(removeMemberRoute, async (c) => {
    const { id, userId } = c.req.valid("param");
    return c.json(await conversations.removeMember(id, userId), 200);
  });

  app.openapi(sendMessageRoute, async (c) => {
    const input = c.req.valid("json");
    // Keyed by sender, like the socket's limit: a user's budget is the same whichever way they send.
    await limits.messages.consume(input.senderId);
    const { message, created } = await messages.send(BACKEND, { conversationId: c.req.valid("param").id, ...input });
    if (created) deps.metrics?.messageStored("http");
    return created ? c.json(message, 201) : c.json(message, 200);
  });

  app.openapi(historyRoute, async (c) => c.json(await messages.history(BACKEND, c.req.valid("param").id, c.req.valid("query")), 200));

  app.openapi(markReadRoute, async (c) => {
    const { userId, seq } = c.req.valid("json");
    return c.json(await messages.markRead(userId, c.req.valid("param").id, seq), 200);
  });

  app.openapi(editMessageRoute, async (c) => {
    const { id, messageId } = c.req.valid("param");
    return c.json(await messages.edit(BACKEND, { conversationId: id, messageId, ...c.req.valid("json") }), 200);
  });

  app.openapi(deleteMessageRoute, async (c) => {
    const { id, messageId } = c.req.valid("param");
    return c.json(await messages.delete(BACKEND, id, messageId), 200);
  });

  // Reactions fan out like edits: they spend the member's message budget, as on the socket.
  app.openapi(addReactionRoute, async (c) => {
    const { id, messageId } = c.req.valid("param");
    const { userId, emoji } = c.req.valid("json");
    await limits.messages.consume(userId);
    return c.json(await messages.react(BACKEND, { conversationId: id, messageId, userId, emoji }), 200);
  });

  app.openapi(removeReactionRoute, async (c) => {
    const { id, messageId } = c.req.valid("param");
    const { userId, emoji } = c.req.valid("query");
    await limits.messages.consume(userId);
    return c.json(await messages.unreact(BACKEND, { conversationId: id, messageId, userId, emoji }), 200);
  });

  app.openapi(changesRoute, async (c) => c.json(await messages.changes(BACKEND, c.req.valid("param").id, c.req.valid("query")), 200));

  app.openapi(createTokenRoute, async (c) => {
    const { userId, ttlSeconds, name, role } = c.req.valid("json");
    const minted = await tokens.mint({
      userId,
      ...(name ? { name } : {}),
      ...(role ? { role } : {}),
      ttlSeconds: Math.min(ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS, config.jwt.maxTtlSeconds),
    });
    return c.json(minted, 200);
  });

  app.openapi(createApiKeyRoute, async (c) => {
    const { name, scopes } = c.req.valid("json");
    const { key, info } = await apiKeys.create({ name, scopes: scopes ? [...new Set(scopes)] : DEFAULT_API_KEY_SCOPES });
    return c.json({ ...info, key }, 201);
  });

  app.openapi(listApiKeysRoute, async (c) => c.json({ apiKeys: await apiKeys.list() }, 200));

  app.openapi(revokeApiKeyRoute, async (c) => {
    await apiKeys.revoke(c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(rotateApiKeyRoute, async (c) => {
    const { key, info } = await apiKeys.rotate(c.req.valid("param").id);
    return c.json({ ...info, key }, 200);
  });

  app.openapi(healthRoute, (c) => c.json({ status: "ok" as const }, 200));

  app.openapi(readinessRoute, async (c) => {
    const { ok, checks } = await deps.readiness();
    if (ok) return c.json({ status: "ok" as const, store: deps.storeName, checks }, 200);
    const failing = Object.entries(checks)
      .filter(([, state]) => state !== "ok")
      .map(([name, state]) => `${name}: ${state}`)
      .join("; ");
    return c.json(
      {
        status: "unavailable" as const,
        store: deps.storeName,
        checks,
        error: { code: "unavailable" as const, message: `Not ready (${failing}).` },
      },
      503,
    );
  });
}

/** One structured line per request, and the request counted as in flight until it is answered. */
function accessLog({ logger, inflight, metrics }: HttpApiDeps): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const done = inflight.begin();
    const started = performance.now();
    try {
      await next();
    } finally {
      done();
      const ms = performance.now() - started;
      metrics?.httpRequest(c.req.method, routeLabel(c), c.res.status, ms / 1000);
      const line = {
        reqId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(ms * 10) / 10,
        ...(c.get("principal") ? { keyId: c.get("principal")?.keyId } : {}),
      };
      if (PROBE_PATHS.has(c.req.path)) logger.debug(line, "http request");
      else logger.info(line, "http request");
    }
  };
}

/**
 * The route pattern a request was for (`/v1/conversations/:id/messages`), never its raw path, so
 * the metric's label set is bounded by the routes. That is the first matched handler (a route
 * for one method, not an `app.use` middleware): a request refused by a middleware (401, 429)
 * is still counted under the route it was aimed at. No route for the method: `unmatched`.
 */
function routeLabel(c: Context<HttpEnv>): string {
  return matchedRoutes(c).find((route) => route.method !== "ALL")?.path ?? "unmatched";
}

/** Constant-time comparison of `Authorization: Bearer <token>` with the expected token. */
function bearerMatches(header: string | undefined, expected: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(header ?? "")?.[1]?.trim() ?? "";
  // Digests have equal lengths, so timingSafeEqual neither throws nor leaks the token's length.
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * Maps anything thrown to a SwitchboardError and its status. Hono's own exceptions (from the
 * body parser and the content type gate) are translated so clients only ever see stable codes.
 */
function toHttpError(err: unknown): { error: SwitchboardError; status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 500 | 503 } {
  if (err instanceof HTTPException) {
    switch (err.status) {
      case 400:
        return {
          error: new SwitchboardError("invalid_argument", /malformed json/i.test(err.message) ? "body is not valid JSON" : err.message || "Bad request."),
          status: 400,
        };
      case 413:
        return { error: new SwitchboardError("payload_too_large", "Request body is too large."), status: 413 };
      case 415:
        // 415 tells HTTP tooling precisely what is wrong; the code stays in the documented set.
        return { error: new SwitchboardError("invalid_argument", "Content-Type must be application/json."), status: 415 };
      default: {
        const error = fromStatus(err.status, err.message);
        return { error, status: HTTP_STATUS[error.code] };
      }
    }
  }
  const error = toSwitchboardError(err);
  return { error, status: HTTP_STATUS[error.code] };
}

function fromStatus(status: number, message: string): SwitchboardError {
  const code = (Object.keys(HTTP_STATUS) as (keyof typeof HTTP_STATUS)[]).find((c) => HTTP_STATUS[c] === status);
  if (code && code !== "internal") return new SwitchboardError(code, message || code);
  if (status >= 400 && status < 500) return new SwitchboardError("invalid_argument", message || `HTTP ${status}.`);
  return toSwitchboardError(new Error(message));
}
