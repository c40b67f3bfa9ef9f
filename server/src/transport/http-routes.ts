import { createRoute, type z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { hasScope } from "../auth/api-key-service.js";
import type { ApiKeyPrincipal, ApiKeyScope, UserPrincipal } from "../auth/principal.js";
import { LIMITS } from "../../../client-sdk/src/protocol.js";
import { SwitchboardError } from "../core/errors.js";
import {
  apiKeyCreateSchema,
  apiKeyCreatedSchema,
  apiKeyListSchema,
  apiKeyParamSchema,
  changesQuerySchema,
  changesSchema,
  conversationCreateBodySchema,
  conversationSchema,
  errorSchema,
  healthSchema,
  historyQuerySchema,
  idempotencyHeaderSchema,
  idParamSchema,
  memberAddSchema,
  memberParamSchema,
  markReadBodySchema,
  messageEditBodySchema,
  messagePageSchema,
  messageParamSchema,
  messageSchema,
  messageSendBodySchema,
  reactionBodySchema,
  reactionQuerySchema,
  readinessSchema,
  readPositionSchema,
  tokenCreateSchema,
  tokenSchema,
  userSchema,
  userUpsertSchema,
} from "./http-schemas.js";

/**
 * Every documented HTTP route, declared once: the same object registers the handler, validates
 * the request and becomes the route's entry in `/openapi.json`.
 */

/** Name of the bearer API key scheme in the OpenAPI document. */
export const API_KEY_SCHEME = "apiKey";

/** What HTTP handlers and middleware share per request. */
export interface HttpEnv {
  Variables: {
    /** From hono's requestId middleware; echoed as `X-Request-Id`. */
    requestId: string;
    /** The caller of a `/v1` route, set by the API key middleware before any route runs. */
    principal?: ApiKeyPrincipal;
    /** The user of a route called with a user token, once verified (see `http-user-auth.ts`). */
    user?: UserPrincipal;
  };
}

/**
 * Refuses callers whose key lacks `scope`. It runs before the route's validators, so a caller
 * without access learns nothing about what a valid request would look like.
 */
function requireScope(scope: ApiKeyScope): MiddlewareHandler<HttpEnv> {
  return async (c, next) => {
    const principal = c.get("principal");
    if (!principal) throw new SwitchboardError("unauthorized", "Missing API key: send `Authorization: Bearer <key>`.");
    if (!hasScope(principal, scope)) {
      throw new SwitchboardError("forbidden", `API key ${principal.name} lacks the \`${scope}\` scope this route needs.`);
    }
    await next();
  };
}

/** A JSON response of `schema` (shared with `http-webhook-routes.ts`, like the helpers below). */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const body = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

const ERROR_DESCRIPTIONS = {
  400: "`invalid_argument`: a field is missing or invalid (the message names it), or the body is not valid JSON.",
  401: "`unauthorized`: the API key is missing, unknown or revoked.",
  403: "`forbidden`: the API key lacks the scope this route needs, or the action is not allowed (for example a sender who is not a member).",
  404: "`not_found`: no such resource.",
  409: "`conflict`: the request contradicts stored state (for example a taken id).",
  413: "`payload_too_large`: the body is larger than MAX_HTTP_BODY_BYTES, or the text is longer than the limit.",
  415: "`invalid_argument`: the body must be `application/json`.",
  429: "`rate_limited`: too many requests for this API key (or messages for this sender); see `Retry-After`.",
  500: "`internal`: an unexpected error; the server logged it with the request id.",
  503: "`unavailable`: a dependency (store, rate limiter) is unreachable; retry shortly.",
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

export const errors = (...statuses: ErrorStatus[]) =>
  Object.fromEntries(statuses.map((s) => [s, json(errorSchema, ERROR_DESCRIPTIONS[s])])) as Record<ErrorStatus, ReturnType<typeof json<typeof errorSchema>>>;

/** Errors any authenticated route can answer. */
export const AUTHED_ERRORS: ErrorStatus[] = [401, 403, 429, 500, 503];
/** Plus those of routes that take a JSON body. */
export const BODY_ERRORS: ErrorStatus[] = [400, 413, 415, ...AUTHED_ERRORS];

const RATE_LIMIT_HEADERS = {
  "RateLimit-Limit": { description: "Requests allowed per 10 s for this API key.", schema: { type: "integer" as const } },
  "RateLimit-Remaining": { description: "Requests left in the current window.", schema: { type: "integer" as const } },
};

const IDEMPOTENT_REPLAYED_HEADER = {
  "Idempotent-Replayed": {
    description: "`true` when this is the stored response of an earlier request with the same `Idempotency-Key`.",
    schema: { type: "string" as const, enum: ["true"] },
  },
};

/**
 * A `/v1` route: API key security with its scope, the scope check, and the standard errors.
 * Every response but 401 (no key to count against) carries the rate limit headers; a POST also
 * takes the `Idempotency-Key` header.
 */
export function v1<const R extends Parameters<typeof createRoute>[0]>(scope: ApiKeyScope, route: R) {
  const post = route.method === "post";
  return createRoute({
    ...route,
    // Left out of the route's type: the header is handled by middleware, never read by handlers.
    ...((post ? { request: { ...route.request, headers: idempotencyHeaderSchema } } : {}) as object),
    security: [{ [API_KEY_SCHEME]: [scope] }],
    middleware: [requireScope(scope)] as const,
    responses: Object.fromEntries(
      Object.entries(route.responses).map(([status, response]) => {
        const code = Number(status);
        const headers = {
          ...(code === 401 ? {} : RATE_LIMIT_HEADERS),
          ...(post && code < 300 ? IDEMPOTENT_REPLAYED_HEADER : {}),
          ...(response as { headers?: object }).headers,
        };
        return [status, Object.keys(headers).length > 0 ? { ...response, headers } : response];
      }),
    ) as R["responses"],
  });
}

export const upsertUserRoute = v1("write", {
  method: "post",
  path: "/v1/users",
  tags: ["Users"],
  summary: "Create or update a user",
  description: "Idempotent: answers 200 with the stored user whether it was created or updated. Fields left out keep their stored value.",
  request: { body: body(userUpsertSchema) },
  responses: { 200: json(userSchema, "The user as stored."), ...errors(...BODY_ERRORS) },
});

export const getUserRoute = v1("read", {
  method: "get",
  path: "/v1/users/{id}",
  tags: ["Users"],
  summary: "Get a user",
  request: { params: idParamSchema },
  responses: { 200: json(userSchema, "The user."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const createConversationRoute = v1("write", {
  method: "post",
  path: "/v1/conversations",
  tags: ["Conversations"],
  summary: "Create a conversation",
  description: "A `direct` conversation with the same two members already existing is returned as it is.",
  request: { body: body(conversationCreateBodySchema) },
  responses: { 201: json(conversationSchema, "The conversation."), ...errors(409, ...BODY_ERRORS) },
});

export const getConversationRoute = v1("read", {
  method: "get",
  path: "/v1/conversations/{id}",
  tags: ["Conversations"],
  summary: "Get a conversation",
  request: { params: idParamSchema },
  responses: { 200: json(conversationSchema, "The conversation with its members."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const addMemberRoute = v1("write", {
  method: "post",
  path: "/v1/conversations/{id}/members",
  tags: ["Conversations"],
  summary: "Add a member",
  description: "Idempotent: an existing member keeps its role and read position. Members are told with `conversation:updated`.",
  request: { params: idParamSchema, body: body(memberAddSchema) },
  responses: { 200: json(conversationSchema, "The conversation after the change."), ...errors(404, ...BODY_ERRORS) },
});

export const removeMemberRoute = v1("write", {
  method: "delete",
  path: "/v1/conversations/{id}/members/{userId}",
  tags: ["Conversations"],
  summary: "Remove a member",
  description: "Idempotent. The removed user's connections stop receiving the conversation at once.",
  request: { params: memberParamSchema },
  responses: { 200: json(conversationSchema, "The conversation after the change."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const sendMessageRoute = v1("write", {
  method: "post",
  path: "/v1/conversations/{id}/messages",
  tags: ["Messages"],
  summary: "Send a message",
  description:
    "Stores the message as `senderId` (who must be a member) and delivers it live exactly like a socket send. " +
    "Answers only once the message is durable. Counts against the sender's message rate limit (shared with their sockets). " +
    "With `replyTo` it quotes another message; with `threadId` it is a reply in that message's thread: it still takes the " +
    "conversation's next `seq`, gets the thread's next `threadSeq`, and the parent's `replyCount` moves (announced as `message:updated`).",
  request: { params: idParamSchema, body: body(messageSendBodySchema) },
  responses: {
    201: json(messageSchema, "The message, newly stored."),
    200: json(messageSchema, "A retry with a known `(senderId, clientMessageId)`: the original message; nothing was stored."),
    ...errors(403, 404, 409, ...BODY_ERRORS),
  },
});

export const historyRoute = v1("read", {
  method: "get",
  path: "/v1/conversations/{id}/messages",
  tags: ["Messages"],
  summary: "Read message history",
  description:
    "Pages by `seq`, oldest first. With `afterSeq`: the oldest page above it; with `beforeSeq` only, or neither: the newest page. " +
    "Thread replies are part of the conversation's history; with `threadId`, the page holds only that thread's replies.",
  request: { params: idParamSchema, query: historyQuerySchema },
  responses: { 200: json(messagePageSchema, "A page of messages."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const markReadRoute = v1("write", {
  method: "post",
  path: "/v1/conversations/{id}/read",
  tags: ["Messages"],
  summary: "Mark messages read for a member",
  description:
    "Moves the member's `lastReadSeq` forward to `seq` (never back), as `message:read` does for a connected client: for a backend " +
    "that knows the user read elsewhere. Members' joined connections receive `receipt:read`, and pending offline notifications " +
    "(a scheduled SMS) of those messages are cancelled.",
  request: { params: idParamSchema, body: body(markReadBodySchema) },
  responses: { 200: json(readPositionSchema, "The member's read position after the call."), ...errors(403, 404, ...BODY_ERRORS) },
});

export const editMessageRoute = v1("write", {
  method: "patch",
  path: "/v1/conversations/{id}/messages/{messageId}",
  tags: ["Messages"],
  summary: "Edit a message",
  description:
    "Replaces the text (and the attachments, when given) of any message of the conversation and sets `editedAt`. " +
    "Members' joined connections receive the new version as `message:updated`; history answers it from now on. " +
    "A deleted message cannot be edited (409).",
  request: { params: messageParamSchema, body: body(messageEditBodySchema) },
  responses: { 200: json(messageSchema, "The message as edited."), ...errors(404, 409, ...BODY_ERRORS) },
});

export const deleteMessageRoute = v1("write", {
  method: "delete",
  path: "/v1/conversations/{id}/messages/{messageId}",
  tags: ["Messages"],
  summary: "Delete a message",
  description:
    "Deletes any message of the conversation. It keeps its `id` and `seq` (history has no gap): its text becomes empty, its " +
    "attachments are removed, and it gets `deleted: true` and `deletedAt`. Members' joined connections receive it as " +
    "`message:updated`. Deleting a deleted message answers it again (200).",
  request: { params: messageParamSchema },
  responses: { 200: json(messageSchema, "The message as deleted."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const changesRoute = v1("read", {
  method: "get",
  path: "/v1/conversations/{id}/changes",
  tags: ["Messages"],
  summary: "Read what changed since a revision",
  description:
    "The current versions of the messages edited, deleted, reacted to, or given a thread reply after revision `afterRev`, " +
    "oldest change first. Start from a conversation's `lastRev` and ask again with the answer's `lastRev` while `hasMore`. " +
    "New messages are not changes: page them with `afterSeq`.",
  request: { params: idParamSchema, query: changesQuerySchema },
  responses: { 200: json(changesSchema, "A page of changed messages."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const addReactionRoute = v1("write", {
  method: "post",
  path: "/v1/conversations/{id}/messages/{messageId}/reactions",
  tags: ["Messages"],
  summary: "React to a message for a member",
  description:
    "Adds `userId`'s reaction; reacting again with the same emoji changes nothing and answers 200 all the same. A message carries at " +
    `most ${LIMITS.reactionsDistinctMax} distinct emoji (400 for a new one beyond that). Members' joined connections receive the new ` +
    "version as `message:updated`; webhooks get `reaction.added`. A deleted message takes no reactions (409). " +
    "Counts against the member's message rate limit.",
  request: { params: messageParamSchema, body: body(reactionBodySchema) },
  responses: { 200: json(messageSchema, "The message's current version, with its `reactions`."), ...errors(404, 409, ...BODY_ERRORS) },
});

export const removeReactionRoute = v1("write", {
  method: "delete",
  path: "/v1/conversations/{id}/messages/{messageId}/reactions",
  tags: ["Messages"],
  summary: "Take a member's reaction back",
  description:
    "Removes `userId`'s reaction `emoji` (URL-encoded); removing one that is not there succeeds. Announced as `message:updated` " +
    "and the `reaction.removed` webhook. Counts against the member's message rate limit.",
  request: { params: messageParamSchema, query: reactionQuerySchema },
  responses: { 200: json(messageSchema, "The message's current version."), ...errors(400, 404, 409, ...AUTHED_ERRORS) },
});

export const createTokenRoute = v1("admin", {
  method: "post",
  path: "/v1/tokens",
  tags: ["Tokens"],
  summary: "Mint a user token",
  description: "Mints a user token (HS256 JWT) for the Socket.IO handshake, so your backend needs no JWT library. The user is recorded on first connection.",
  request: { body: body(tokenCreateSchema) },
  responses: { 200: json(tokenSchema, "The token and its expiry."), ...errors(...BODY_ERRORS) },
});

export const createApiKeyRoute = v1("admin", {
  method: "post",
  path: "/v1/api-keys",
  tags: ["API keys"],
  summary: "Create an API key",
  description: "The secret is in this response only; Switchboard stores its hash.",
  request: { body: body(apiKeyCreateSchema) },
  responses: { 201: json(apiKeyCreatedSchema, "The new key, with its secret."), ...errors(...BODY_ERRORS) },
});

export const listApiKeysRoute = v1("admin", {
  method: "get",
  path: "/v1/api-keys",
  tags: ["API keys"],
  summary: "List API keys",
  description:
    "Revoked keys included (with `revokedAt`); secrets never. `lastUsedAt` is when the key last authenticated a request " +
    "(recorded at most once a minute); `previousKeyExpiresAt`, after a rotation, is until when the replaced secret works.",
  responses: { 200: json(apiKeyListSchema, "Every key."), ...errors(...AUTHED_ERRORS) },
});

export const revokeApiKeyRoute = v1("admin", {
  method: "delete",
  path: "/v1/api-keys/{id}",
  tags: ["API keys"],
  summary: "Revoke an API key",
  description: "Takes effect on the next request made with the key.",
  request: { params: apiKeyParamSchema },
  responses: { 204: { description: "Revoked." }, ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const rotateApiKeyRoute = v1("admin", {
  method: "post",
  path: "/v1/api-keys/{id}/rotate",
  tags: ["API keys"],
  summary: "Rotate an API key",
  description:
    "Gives the key a new secret, shown in this response only; its id, name and scopes stay. The replaced secret keeps " +
    "working until `previousKeyExpiresAt` (API_KEY_ROTATION_GRACE_HOURS, default 24 h), so callers can switch without downtime; " +
    "rotating again ends that grace at once. The key ADMIN_API_KEY configures is rotated by changing the variable (409 here).",
  request: { params: apiKeyParamSchema },
  responses: { 200: json(apiKeyCreatedSchema, "The key with its new secret."), ...errors(400, 404, 409, ...AUTHED_ERRORS) },
});

export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Operations"],
  summary: "Liveness",
  description: "No API key. 200 while the process is up.",
  responses: { 200: json(healthSchema, "The process is up."), ...errors(500) },
});

export const readinessRoute = createRoute({
  method: "get",
  path: "/readyz",
  tags: ["Operations"],
  summary: "Readiness",
  description: "No API key. 200 when this node can serve (store reachable, listening, not shutting down); 503 otherwise.",
  responses: {
    200: json(readinessSchema, "Ready."),
    503: json(readinessSchema, "Not ready; `checks` says why."),
    500: json(errorSchema, ERROR_DESCRIPTIONS[500]),
  },
});

/** Every route of the API, in documentation order; `createHttpApi` registers exactly these. */
export const API_ROUTES = [
  upsertUserRoute,
  getUserRoute,
  createConversationRoute,
  getConversationRoute,
  addMemberRoute,
  removeMemberRoute,
  sendMessageRoute,
  historyRoute,
  markReadRoute,
  editMessageRoute,
  deleteMessageRoute,
  addReactionRoute,
  removeReactionRoute,
  changesRoute,
  createTokenRoute,
  createApiKeyRoute,
  listApiKeysRoute,
  revokeApiKeyRoute,
  rotateApiKeyRoute,
  healthRoute,
  readinessRoute,
] as const;
