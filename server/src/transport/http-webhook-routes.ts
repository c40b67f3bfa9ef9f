import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { idSchema } from "../core/schemas.js";
import { SwitchboardError } from "../core/errors.js";
import type { WebhookService } from "../webhooks/webhook-service.js";
import { WEBHOOK_EVENT_TYPES } from "../webhooks/webhook-store.js";
import { AUTHED_ERRORS, BODY_ERRORS, body, errors, json, v1, type HttpEnv } from "./http-routes.js";

/**
 * The webhook management API: endpoints, their secrets, the delivery log and replays. Every
 * route needs the `admin` scope: an endpoint receives every conversation's messages, and its
 * secret lets anyone forge webhooks. Handlers are thin; {@link WebhookService} does the work.
 */

const isoTime = z.string().meta({ format: "date-time", example: "2025-01-31T12:00:00.000Z" });

// ---- parameters ----

const webhookParamSchema = z.object({
  id: idSchema.meta({ param: { name: "id", in: "path" }, example: "whe_3f0c9a…" }),
});

const deliveryParamSchema = z.object({
  id: idSchema.meta({ param: { name: "id", in: "path" }, example: "whe_3f0c9a…" }),
  deliveryId: idSchema.meta({ param: { name: "deliveryId", in: "path" }, example: "whd_0m5x2k9ab…" }),
});

const deliveryStatusSchema = z.enum(["pending", "succeeded", "failed"]);

const deliveryQuerySchema = z.object({
  status: deliveryStatusSchema.optional().meta({ param: { name: "status", in: "query" }, description: "Only deliveries in this state." }),
  limit: z.coerce
    .number()
    .pipe(z.number().int().min(1).max(100))
    .optional()
    .meta({ param: { name: "limit", in: "query" }, description: "Page size, 1 to 100 (default 50).", type: "integer", minimum: 1, maximum: 100 }),
  before: idSchema.optional().meta({
    param: { name: "before", in: "query" },
    description: "A delivery id: only older deliveries (pass the last id of the previous page).",
  }),
});

// ---- request bodies ----

const eventTypeSchema = z.enum([...WEBHOOK_EVENT_TYPES, "*"]).meta({ description: "An event type, or `*` for every type." });
const webhookUrlSchema = z.string().min(1).max(2048).meta({
  description: "Where events are POSTed: http(s), no credentials. It must resolve to public addresses only, unless the server sets WEBHOOK_ALLOW_PRIVATE.",
  example: "https://backend.example.com/switchboard/webhooks",
});
const descriptionSchema = z.string().trim().max(500);

const webhookCreateSchema = z
  .strictObject({
    url: webhookUrlSchema,
    eventTypes: z.array(eventTypeSchema).min(1).max(WEBHOOK_EVENT_TYPES.length + 1).meta({ example: ["message.created", "member.added"] }),
    description: descriptionSchema.optional(),
    enabled: z.boolean().optional().meta({ description: "Default true." }),
  })
  .meta({ id: "WebhookCreate" });

const webhookUpdateSchema = z
  .strictObject({
    url: webhookUrlSchema.optional(),
    eventTypes: z.array(eventTypeSchema).min(1).max(WEBHOOK_EVENT_TYPES.length + 1).optional(),
    description: descriptionSchema.nullable().optional().meta({ description: "`null` or an empty string removes it." }),
    enabled: z.boolean().optional().meta({ description: "`true` re-enables a disabled endpoint and clears its failure count." }),
  })
  .meta({ id: "WebhookUpdate", description: "Fields left out keep their value." });

const webhookReplaySchema = z
  .strictObject({
    since: z.iso.datetime({ offset: true }).meta({ description: "Events that happened at or after this time…" }),
    until: z.iso.datetime({ offset: true }).optional().meta({ description: "…and before this one (default: now)." }),
  })
  .meta({ id: "WebhookReplay" });

// ---- responses ----

const webhookEndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().optional(),
    eventTypes: z.array(z.string()),
    enabled: z.boolean(),
    disabledReason: z
      .enum(["manual", "gone", "failing"])
      .optional()
      .meta({ description: "While disabled: `manual` (PATCH), `gone` (the receiver answered 410) or `failing` (every attempt failed for too long)." }),
    consecutiveFailures: z.number().int().meta({ description: "Failed attempts since the last successful one." }),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: "WebhookEndpoint" });

const webhookSecretSchema = z
  .object({
    secret: z.string().meta({ description: "`whsec_` + base64 key (Standard Webhooks). Verify `webhook-signature` with it.", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
    previousSecretExpiresAt: isoTime.optional().meta({ description: "After a rotation: until then, requests are also signed with the previous secret." }),
  })
  .meta({ id: "WebhookSecret" });

const webhookCreatedSchema = webhookEndpointSchema
  .extend({ secret: webhookSecretSchema.shape.secret })
  .meta({ id: "WebhookEndpointCreated" });

const webhookListSchema = z.object({ webhooks: z.array(webhookEndpointSchema) }).meta({ id: "WebhookEndpointList" });

const webhookAttemptSchema = z
  .object({
    at: isoTime,
    statusCode: z.number().int().optional().meta({ description: "The receiver's answer; absent when none came." }),
    durationMs: z.number().int(),
    error: z.string().optional(),
    nextAttemptAt: isoTime.optional().meta({ description: "When the next attempt is due; absent after the last one." }),
  })
  .meta({ id: "WebhookAttempt" });

const webhookDeliverySchema = z
  .object({
    id: z.string(),
    endpointId: z.string(),
    eventId: z.string().meta({ description: "The `webhook-id` header: the same for every delivery and replay of one event." }),
    eventType: z.string(),
    status: deliveryStatusSchema,
    attempts: z.array(webhookAttemptSchema).meta({ description: "Oldest first." }),
    nextAttemptAt: isoTime.optional(),
    createdAt: isoTime,
    replayOf: z.string().optional().meta({ description: "The delivery this one replays." }),
  })
  .meta({ id: "WebhookDelivery" });

const webhookDeliveryPageSchema = z
  .object({ deliveries: z.array(webhookDeliverySchema).meta({ description: "Newest first." }), hasMore: z.boolean() })
  .meta({ id: "WebhookDeliveryPage" });

const replayResultSchema = z.object({ enqueued: z.number().int() }).meta({ id: "WebhookReplayResult" });

// ---- routes ----

const TAGS = ["Webhooks"];

export const createWebhookRoute = v1("admin", {
  method: "post",
  path: "/v1/webhooks",
  tags: TAGS,
  summary: "Register a webhook endpoint",
  description:
    "Events of the subscribed types are POSTed to `url`, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). " +
    "The answer carries the signing secret; `GET /v1/webhooks/{id}/secret` shows it again.",
  request: { body: body(webhookCreateSchema) },
  responses: { 201: json(webhookCreatedSchema, "The endpoint with its signing secret."), ...errors(...BODY_ERRORS) },
});

export const listWebhooksRoute = v1("admin", {
  method: "get",
  path: "/v1/webhooks",
  tags: TAGS,
  summary: "List webhook endpoints",
  responses: { 200: json(webhookListSchema, "Every endpoint, oldest first; secrets never."), ...errors(...AUTHED_ERRORS) },
});

export const getWebhookRoute = v1("admin", {
  method: "get",
  path: "/v1/webhooks/{id}",
  tags: TAGS,
  summary: "Get a webhook endpoint",
  request: { params: webhookParamSchema },
  responses: { 200: json(webhookEndpointSchema, "The endpoint."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const updateWebhookRoute = v1("admin", {
  method: "patch",
  path: "/v1/webhooks/{id}",
  tags: TAGS,
  summary: "Change a webhook endpoint",
  description: "Change the URL, event types or description, disable it, or re-enable one that was disabled.",
  request: { params: webhookParamSchema, body: body(webhookUpdateSchema) },
  responses: { 200: json(webhookEndpointSchema, "The endpoint after the change."), ...errors(404, ...BODY_ERRORS) },
});

export const deleteWebhookRoute = v1("admin", {
  method: "delete",
  path: "/v1/webhooks/{id}",
  tags: TAGS,
  summary: "Delete a webhook endpoint",
  description: "Its pending deliveries and delivery log go with it.",
  request: { params: webhookParamSchema },
  responses: { 204: { description: "Deleted." }, ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const getWebhookSecretRoute = v1("admin", {
  method: "get",
  path: "/v1/webhooks/{id}/secret",
  tags: TAGS,
  summary: "Get a webhook endpoint's signing secret",
  request: { params: webhookParamSchema },
  responses: { 200: json(webhookSecretSchema, "The current secret."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const rotateWebhookSecretRoute = v1("admin", {
  method: "post",
  path: "/v1/webhooks/{id}/rotate-secret",
  tags: TAGS,
  summary: "Rotate a webhook endpoint's signing secret",
  description:
    "Generates a new secret. For WEBHOOK_SECRET_GRACE_HOURS (default 24) requests carry two signatures, one per secret, " +
    "so the receiver can switch to the new one without losing a request.",
  request: { params: webhookParamSchema },
  responses: { 200: json(webhookSecretSchema, "The new secret."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const listWebhookDeliveriesRoute = v1("admin", {
  method: "get",
  path: "/v1/webhooks/{id}/deliveries",
  tags: TAGS,
  summary: "Read a webhook endpoint's delivery log",
  description: "One delivery per event sent (or to be sent), newest first, each with its attempts: time, status code, duration, error and next attempt.",
  request: { params: webhookParamSchema, query: deliveryQuerySchema },
  responses: { 200: json(webhookDeliveryPageSchema, "A page of deliveries."), ...errors(400, 404, ...AUTHED_ERRORS) },
});

export const replayWebhookDeliveryRoute = v1("admin", {
  method: "post",
  path: "/v1/webhooks/{id}/deliveries/{deliveryId}/replay",
  tags: TAGS,
  summary: "Replay one delivery",
  description: "Sends the delivery's event again as a new delivery, with the same `webhook-id`. The endpoint must be enabled.",
  request: { params: deliveryParamSchema },
  responses: { 202: json(webhookDeliverySchema, "The new delivery, queued."), ...errors(400, 404, 409, ...AUTHED_ERRORS) },
});

export const replayWebhookRangeRoute = v1("admin", {
  method: "post",
  path: "/v1/webhooks/{id}/replay",
  tags: TAGS,
  summary: "Replay a time range",
  description:
    "Sends again every recorded event of the types the endpoint subscribes to that happened in `[since, until)`, as new deliveries with " +
    "their original `webhook-id`s. Events are kept for WEBHOOK_RETENTION_DAYS (default 30). The endpoint must be enabled.",
  request: { params: webhookParamSchema, body: body(webhookReplaySchema) },
  responses: { 202: json(replayResultSchema, "How many deliveries were queued."), ...errors(404, 409, ...BODY_ERRORS) },
});

/** Every webhook route, in documentation order; {@link registerWebhookRoutes} registers exactly these. */
export const WEBHOOK_ROUTES = [
  createWebhookRoute,
  listWebhooksRoute,
  getWebhookRoute,
  updateWebhookRoute,
  deleteWebhookRoute,
  getWebhookSecretRoute,
  rotateWebhookSecretRoute,
  listWebhookDeliveriesRoute,
  replayWebhookDeliveryRoute,
  replayWebhookRangeRoute,
] as const;

/**
 * Registers the webhook routes. Without a service (an embedding that runs no webhooks) they
 * exist, so the API description stays the same, and answer 503.
 */
export function registerWebhookRoutes(app: OpenAPIHono<HttpEnv>, service: WebhookService | undefined): void {
  const webhooks = (): WebhookService => {
    if (!service) throw new SwitchboardError("unavailable", "Webhooks are not running on this server.");
    return service;
  };

  app.openapi(createWebhookRoute, async (c) => c.json(await webhooks().create(c.req.valid("json")), 201));

  app.openapi(listWebhooksRoute, async (c) => c.json({ webhooks: await webhooks().list() }, 200));

  app.openapi(getWebhookRoute, async (c) => c.json(await webhooks().get(c.req.valid("param").id), 200));

  app.openapi(updateWebhookRoute, async (c) => c.json(await webhooks().update(c.req.valid("param").id, c.req.valid("json")), 200));

  app.openapi(deleteWebhookRoute, async (c) => {
    await webhooks().delete(c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(getWebhookSecretRoute, async (c) => c.json(await webhooks().getSecret(c.req.valid("param").id), 200));

  app.openapi(rotateWebhookSecretRoute, async (c) => c.json(await webhooks().rotateSecret(c.req.valid("param").id), 200));

  app.openapi(listWebhookDeliveriesRoute, async (c) => {
    const { status, limit, before } = c.req.valid("query");
    const page = await webhooks().listDeliveries(c.req.valid("param").id, {
      limit: limit ?? 50,
      ...(status ? { status } : {}),
      ...(before ? { before } : {}),
    });
    return c.json(page, 200);
  });

  app.openapi(replayWebhookDeliveryRoute, async (c) => {
    const { id, deliveryId } = c.req.valid("param");
    return c.json(await webhooks().replayDelivery(id, deliveryId), 202);
  });

  app.openapi(replayWebhookRangeRoute, async (c) => {
    const { since, until } = c.req.valid("json");
    return c.json(await webhooks().replayRange(c.req.valid("param").id, since, until), 202);
  });
}
