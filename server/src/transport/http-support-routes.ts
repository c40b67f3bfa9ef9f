import { getConnInfo } from "@hono/node-server/conninfo";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { TokenService } from "../auth/token-service.js";
import { SwitchboardError } from "../core/errors.js";
import { idSchema } from "../core/schemas.js";
import type { RateLimit } from "../limits/rate-limit.js";
import type { SupportService } from "../support/support-service.js";
import { widgetOriginSchema } from "../support/support-schemas.js";
import { AUTHED_ERRORS, BODY_ERRORS, body, errors, json, v1, type HttpEnv } from "./http-routes.js";
import { messageSchema } from "./http-schemas.js";

/**
 * The support desk's HTTP routes: `POST /v1/widget/sessions`, which the embeddable widget calls
 * from visitors' browsers (no API key: a public widget key, the page's origin and a per-IP limit
 * guard it), and the widget key management API (admin scope). Thin: {@link SupportService} does
 * the work.
 */

/** What the support routes need, built by the composition root. */
export interface SupportHttpDeps {
  service: SupportService;
  tokens: TokenService;
  /** Widget sessions per client IP address. */
  sessionLimit: RateLimit;
  /** Lifetime of the visitor tokens minted (`WIDGET_TOKEN_TTL_SECONDS`). */
  visitorTokenTtlSeconds: number;
}

/** The public route's path, for its CORS middleware. */
export const WIDGET_SESSIONS_PATH = "/v1/widget/sessions";

const isoTime = z.string().meta({ format: "date-time", example: "2025-01-31T12:00:00.000Z" });

// ---- schemas ----

const widgetSessionCreateSchema = z
  .strictObject({
    widgetKey: idSchema.meta({ description: "The public widget key from the `<script data-widget-key>` tag.", example: "wk_demo" }),
    visitorId: z.string().max(80).optional().meta({
      description: "The anonymous visitor id a previous session returned (the widget keeps it in localStorage); absent: a new visitor.",
      example: "v_3q2-7wHk0SdKa8qW1xYb0A",
    }),
    userId: z.string().min(1).max(100).regex(/^[A-Za-z0-9._:@+\-]+$/, "may contain only letters, digits and . _ : @ + -").optional().meta({
      description: "Your own id of a logged-in customer. Refused (401) without a matching `userHash`.",
      example: "cust-1042",
    }),
    userHash: z.string().max(128).optional().meta({
      description: "Hex HMAC-SHA256 of `userId` with the widget key's `identitySecret`, computed by your backend.",
    }),
    name: z.string().trim().min(1).max(100).optional().meta({ description: "Display name shown to agents." }),
  })
  .meta({ id: "WidgetSessionCreate" });

const supportTicketSchema = z
  .object({
    conversationId: z.string(),
    visitorId: z.string().meta({ description: "The visitor's user id." }),
    identified: z.boolean(),
    status: z.enum(["open", "resolved"]),
    assigneeId: z.string().optional(),
    names: z.record(z.string(), z.string()).meta({ description: "Display names of the visitor and the agents involved, by user id." }),
    lastSeq: z.number().int(),
    lastMessage: messageSchema.optional(),
    createdAt: isoTime,
    updatedAt: isoTime,
    lastMessageAt: isoTime.optional(),
  })
  .meta({ id: "SupportTicket" });

const widgetSessionSchema = z
  .object({
    token: z.string().meta({ description: "A visitor token (role `visitor`) for the Socket.IO handshake, limited to the visitor's own support conversation." }),
    expiresAt: isoTime,
    userId: z.string().meta({ description: "The visitor's user id: `visitor:<visitorId>`, or `customer:<userId>` when identified." }),
    visitorId: z.string().optional().meta({ description: "The anonymous visitor id to keep for the next session (absent when identified)." }),
    conversationId: z.string(),
    ticket: supportTicketSchema,
    agentsOnline: z.number().int().meta({ description: "How many agents are online now." }),
  })
  .meta({ id: "WidgetSession" });

const widgetKeyCreateSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    allowedOrigins: z.array(widgetOriginSchema).max(100).optional().meta({
      description: "Origins of the pages that may embed the widget, such as `https://shop.example.com`, or `*`. Default: none, i.e. only this server's own origin.",
      example: ["https://shop.example.com"],
    }),
  })
  .meta({ id: "WidgetKeyCreate" });

const widgetKeyInfoSchema = z
  .object({
    id: z.string().meta({ description: "The public key, for `data-widget-key`.", example: "wk_Xh3…" }),
    name: z.string(),
    allowedOrigins: z.array(z.string()),
    createdAt: isoTime,
    revokedAt: isoTime.optional(),
  })
  .meta({ id: "WidgetKey" });

const widgetKeyWithSecretSchema = widgetKeyInfoSchema
  .extend({
    identitySecret: z.string().meta({ description: "Keep it on your backend: it signs `userHash` for identity verification. Never put it in a page." }),
  })
  .meta({ id: "WidgetKeyWithSecret" });

const widgetKeyParamSchema = z.object({
  id: idSchema.meta({ param: { name: "id", in: "path" }, example: "wk_demo" }),
});

// ---- routes ----

export const createWidgetSessionRoute = createRoute({
  method: "post",
  path: WIDGET_SESSIONS_PATH,
  tags: ["Support widget"],
  summary: "Start a visitor session",
  description:
    "Called by the embeddable widget from the visitor's browser: **no API key**. Checks the widget key and the page's `Origin` " +
    "against the key's allowed origins, verifies `userHash` when a `userId` is claimed, creates the visitor's `support` " +
    "conversation on first use, and mints a short-lived visitor token (WIDGET_TOKEN_TTL_SECONDS, default 1 h). A visitor " +
    "token can only use the visitor's own conversation. Limited per client IP (RATE_LIMIT_WIDGET_SESSIONS per minute).",
  security: [],
  request: { body: body(widgetSessionCreateSchema) },
  responses: { 200: json(widgetSessionSchema, "The session."), ...errors(404, 401, 403, 429, 400, 413, 415, 500, 503) },
});

export const createWidgetKeyRoute = v1("admin", {
  method: "post",
  path: "/v1/widget-keys",
  tags: ["Support widget"],
  summary: "Create a widget key",
  description: "The key itself is public (it goes in the page); the identity secret is for your backend only.",
  request: { body: body(widgetKeyCreateSchema) },
  responses: { 201: json(widgetKeyWithSecretSchema, "The key with its identity secret."), ...errors(...BODY_ERRORS) },
});

export const listWidgetKeysRoute = v1("admin", {
  method: "get",
  path: "/v1/widget-keys",
  tags: ["Support widget"],
  summary: "List widget keys",
  description: "Revoked keys included; identity secrets never.",
  responses: { 200: json(z.object({ widgetKeys: z.array(widgetKeyInfoSchema) }), "Every key."), ...errors(...AUTHED_ERRORS) },
});

export const getWidgetKeyRoute = v1("admin", {
  method: "get",
  path: "/v1/widget-keys/{id}",
  tags: ["Support widget"],
  summary: "Get a widget key with its identity secret",
  request: { params: widgetKeyParamSchema },
  responses: { 200: json(widgetKeyWithSecretSchema, "The key."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const revokeWidgetKeyRoute = v1("admin", {
  method: "delete",
  path: "/v1/widget-keys/{id}",
  tags: ["Support widget"],
  summary: "Revoke a widget key",
  description: "No new sessions start with it; visitor tokens already issued run until they expire.",
  request: { params: widgetKeyParamSchema },
  responses: { 204: { description: "Revoked." }, ...errors(400, 404, ...AUTHED_ERRORS) },
});

/** Every support route, in documentation order. */
export const SUPPORT_ROUTES = [createWidgetSessionRoute, createWidgetKeyRoute, listWidgetKeysRoute, getWidgetKeyRoute, revokeWidgetKeyRoute] as const;

/**
 * CORS of the widget session route, registered before the API's own CORS: host pages are on
 * other origins than `ALLOWED_ORIGINS`. A preflight carries no widget key, so it is answered for
 * any origin some active key allows; the request itself is then checked against its own key.
 */
export function widgetSessionCors(deps: SupportHttpDeps | undefined): MiddlewareHandler<HttpEnv> {
  return cors({
    origin: async (origin) => (origin && deps && (await deps.service.isWidgetOrigin(origin).catch(() => false)) ? origin : null),
    allowMethods: ["POST"],
    allowHeaders: ["Content-Type"],
    exposeHeaders: ["Retry-After", "X-Request-Id"],
    maxAge: 600,
  });
}

/**
 * CORS of the upload routes (`/v1/uploads`, `/v1/uploads/*`) for widget host pages, registered
 * before the API's own CORS, which still answers for `ALLOWED_ORIGINS`. The widget uploads with
 * the visitor's token and may read an upload's metadata or bytes with `fetch`: every request
 * carries a bearer token or a signed link (never a cookie), so answering any origin that some
 * active widget key allows grants a page nothing it does not already hold.
 */
export function widgetUploadsCors(deps: SupportHttpDeps | undefined): MiddlewareHandler<HttpEnv> {
  const forWidgets = cors({
    origin: (origin) => origin,
    allowMethods: ["GET", "HEAD", "POST"],
    allowHeaders: ["Authorization", "Content-Type", "Range"],
    exposeHeaders: ["Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "X-Request-Id", "Content-Disposition", "Content-Range"],
    maxAge: 600,
  });
  return async (c, next) => {
    const origin = c.req.header("origin");
    // Other origins fall through to the API's CORS: hono's cors answers every preflight itself,
    // so running it for them here would hide ALLOWED_ORIGINS from the upload routes.
    if (!origin || !deps || !(await deps.service.isWidgetOrigin(origin).catch(() => false))) return next();
    return forWidgets(c, next);
  };
}

/**
 * Registers `POST /v1/widget/sessions`. It must come before the `/v1` API key middleware, which
 * it answers in place of. Without a support desk it answers 503.
 */
export function registerWidgetSessionRoute(app: OpenAPIHono<HttpEnv>, deps: SupportHttpDeps | undefined): void {
  app.openapi(createWidgetSessionRoute, async (c) => {
    if (!deps) throw new SwitchboardError("unavailable", "The support desk is not running on this server.");
    await deps.sessionLimit.consume(clientAddress(c));
    const input = c.req.valid("json");
    const origin = c.req.header("origin");
    const host = c.req.header("host");
    const session = await deps.service.startVisitorSession({ ...input, ...(origin ? { origin } : {}), ...(host ? { host } : {}) });
    const minted = await deps.tokens.mint({
      userId: session.userId,
      role: "visitor",
      ...(session.name ? { name: session.name } : {}),
      ttlSeconds: deps.visitorTokenTtlSeconds,
    });
    return c.json(
      {
        ...minted,
        userId: session.userId,
        ...(session.visitorId ? { visitorId: session.visitorId } : {}),
        conversationId: session.conversationId,
        ticket: session.ticket,
        agentsOnline: session.agentsOnline,
      },
      200,
    );
  });
}

/** Registers the widget key routes (after the API key middleware). Without a support desk they answer 503. */
export function registerWidgetKeyRoutes(app: OpenAPIHono<HttpEnv>, deps: SupportHttpDeps | undefined): void {
  const desk = (): SupportService => {
    if (!deps) throw new SwitchboardError("unavailable", "The support desk is not running on this server.");
    return deps.service;
  };

  app.openapi(createWidgetKeyRoute, async (c) => {
    const { name, allowedOrigins } = c.req.valid("json");
    return c.json(await desk().createWidgetKey({ name, ...(allowedOrigins ? { allowedOrigins } : {}) }), 201);
  });

  app.openapi(listWidgetKeysRoute, async (c) => c.json({ widgetKeys: await desk().listWidgetKeys() }, 200));

  app.openapi(getWidgetKeyRoute, async (c) => c.json(await desk().getWidgetKey(c.req.valid("param").id), 200));

  app.openapi(revokeWidgetKeyRoute, async (c) => {
    await desk().revokeWidgetKey(c.req.valid("param").id);
    return c.body(null, 204);
  });
}

/**
 * The client's address, as the TCP peer (a reverse proxy in front makes every visitor share its
 * address: give the limit room for that, or put the limit in the proxy). In-process requests
 * (tests) have none.
 */
function clientAddress(c: Context<HttpEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}
