import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { TokenService } from "../auth/token-service.js";
import { DEVICE_APP_ID_MAX_LENGTH, DEVICE_TOKEN_MAX_LENGTH, type DeviceService } from "../delivery/mobile/device-service.js";
import type { DeviceRecord } from "../delivery/mobile/device-store.js";
import { PUSH_ENDPOINT_MAX_LENGTH, type PushSubscriptionService } from "../delivery/push/push-subscriptions.js";
import { body, errors, json, type HttpEnv } from "./http-routes.js";
import { errorSchema } from "./http-schemas.js";
import { USER_TOKEN_SCHEME, userAuth } from "./http-user-auth.js";

/**
 * The Web Push routes browsers call: the VAPID public key to subscribe with (public), and
 * registering or removing the browser's subscription with the user's own token (no API key).
 * Registered before the `/v1` API key middleware. Thin: {@link PushSubscriptionService} does the work.
 */

/** What the push routes need, built by the composition root. */
export interface PushHttpDeps {
  /** Verifies the user tokens. */
  tokens: TokenService;
  subscriptions: PushSubscriptionService;
  /** The native mobile push devices (FCM, APNs). */
  devices: DeviceService;
  /** The VAPID public key in force (base64url). */
  publicKey: () => string;
}

const isoTime = z.string().meta({ format: "date-time", example: "2025-01-31T12:00:00.000Z" });

// ---- schemas ----

const vapidPublicKeySchema = z
  .object({
    publicKey: z.string().meta({
      description: "The VAPID public key (uncompressed P-256 point, base64url): pass it as `applicationServerKey` to `pushManager.subscribe()`.",
      example: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
    }),
  })
  .meta({ id: "VapidPublicKey" });

const pushSubscriptionCreateSchema = z
  .object({
    endpoint: z.string().min(1).max(PUSH_ENDPOINT_MAX_LENGTH).meta({
      description: "The push service URL (https). It must resolve to public addresses only, unless the server sets PUSH_ALLOW_PRIVATE.",
      example: "https://fcm.googleapis.com/fcm/send/dpH5lCsTSSM:APA91bHqjZxM0VImWWqDRN7U0a3AycjUf4O-byuxb_wJsKRaKvV_iKw56s16ekq6FUqoCF7k2nICUpd8fHPxVTgqLunFeVeB9lLCQZyohyAztTH8ZQL9WCxKpA6dvTG_TUIhQUFq_n",
    }),
    expirationTime: z.number().nullable().optional().meta({ description: "Epoch ms, or null: as the browser reports it." }),
    keys: z.object({
      p256dh: z.string().max(256).meta({ description: "The browser's P-256 public key (65 bytes), base64url." }),
      auth: z.string().max(256).meta({ description: "The 16-byte auth secret, base64url." }),
    }),
  })
  .meta({ id: "PushSubscriptionCreate", description: "The browser's `PushSubscription.toJSON()`, as it is." });

const pushSubscriptionCreatedSchema = z
  .object({
    id: z.string().meta({ example: "psub_9f2c4e0b7a1d3c5e8f6a2b4c" }),
    endpoint: z.string(),
    createdAt: isoTime,
  })
  .meta({ id: "PushSubscription" });

const pushSubscriptionDeleteSchema = z
  .object({ endpoint: z.string().min(1).max(PUSH_ENDPOINT_MAX_LENGTH).meta({ description: "The endpoint of the subscription to remove." }) })
  .meta({ id: "PushSubscriptionDelete" });

const deviceCreateSchema = z
  .object({
    platform: z.enum(["ios", "android", "expo"]).meta({ description: "`ios`: an APNs device token; `android`: an FCM registration token; `expo`: an Expo push token (`ExponentPushToken[…]`, needs EXPO_PUSH)." }),
    token: z.string().min(1).max(DEVICE_TOKEN_MAX_LENGTH).meta({
      description: "iOS: the APNs device token as hex (64 hex digits); Android: the FCM registration token from `getToken()`.",
      example: "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad",
    }),
    appId: z.string().max(DEVICE_APP_ID_MAX_LENGTH).optional().meta({
      description: "The app's bundle id (iOS, sent as `apns-topic`; default APNS_TOPIC) or package name (Android).",
      example: "com.example.chat",
    }),
  })
  .meta({ id: "DeviceCreate" });

const deviceSchema = z
  .object({
    id: z.string().meta({ example: "dev_9f2c4e0b7a1d3c5e8f6a2b4c" }),
    platform: z.enum(["ios", "android", "expo"]),
    token: z.string(),
    appId: z.string().optional(),
    createdAt: isoTime,
    updatedAt: isoTime,
  })
  .meta({ id: "Device" });

const deviceListSchema = z.object({ devices: z.array(deviceSchema) }).meta({ id: "DeviceList" });
const deviceTokenParamSchema = z.object({
  token: z.string().min(1).max(DEVICE_TOKEN_MAX_LENGTH).meta({ param: { name: "token", in: "path" }, example: "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad" }),
});

// ---- responses ----

const USER_TOKEN_401 = json(errorSchema, "`unauthorized`: the user token is missing, expired or invalid; send `Authorization: Bearer <user token>`.");
/** The errors of a route called with a user token and a JSON body. */
const USER_BODY_ERRORS = { ...errors(400, 403, 413, 415, 429, 500, 503), 401: USER_TOKEN_401 };

// ---- routes ----

const TAGS = ["Web Push"];

export const vapidPublicKeyRoute = createRoute({
  method: "get",
  path: "/v1/push/vapid-public-key",
  tags: TAGS,
  summary: "Get the VAPID public key",
  description: "**No authentication.** The key browsers subscribe with; it only changes when the server's VAPID keys are replaced (browsers must then subscribe again).",
  security: [],
  responses: { 200: json(vapidPublicKeySchema, "The key."), ...errors(500, 503) },
});

export const createPushSubscriptionRoute = createRoute({
  method: "post",
  path: "/v1/push/subscriptions",
  tags: TAGS,
  summary: "Register this browser for Web Push",
  description:
    "Called from the user's browser with the **user token** (not an API key). Stores the subscription for the token's user; " +
    "registering a known endpoint again updates its keys and moves it to this user. A user keeps at most " +
    "PUSH_MAX_SUBSCRIPTIONS_PER_USER (default 10) subscriptions: one more drops their oldest. Pushes are sent while the user " +
    "is offline everywhere and has not read the message; a push service answering 404 or 410 removes the subscription.",
  security: [{ [USER_TOKEN_SCHEME]: [] }],
  request: { body: body(pushSubscriptionCreateSchema) },
  responses: { 201: json(pushSubscriptionCreatedSchema, "The subscription, stored."), ...USER_BODY_ERRORS },
});

export const deletePushSubscriptionRoute = createRoute({
  method: "delete",
  path: "/v1/push/subscriptions",
  tags: TAGS,
  summary: "Unregister this browser from Web Push",
  description: "Called from the user's browser with the **user token**. Removes the token user's subscription with this endpoint.",
  security: [{ [USER_TOKEN_SCHEME]: [] }],
  request: { body: body(pushSubscriptionDeleteSchema) },
  responses: { 204: { description: "Removed." }, ...USER_BODY_ERRORS, ...errors(404) },
});

const DEVICE_TAGS = ["Mobile push"];

export const createDeviceRoute = createRoute({
  method: "post",
  path: "/v1/push/devices",
  tags: DEVICE_TAGS,
  summary: "Register this phone for native push (APNs or FCM)",
  description:
    "Called from the user's app with the **user token** (not an API key). Stores the device token for the token's user; " +
    "registering a known token again moves it to this user. A user keeps at most PUSH_MAX_DEVICES_PER_USER (default 10) " +
    "devices: one more drops their oldest. Pushes are sent while the user is offline everywhere and has not read the message " +
    "(iOS through APNs when APNS_KEY_FILE is set, Android through FCM when FCM_SERVICE_ACCOUNT_FILE is set); a token the " +
    "provider reports invalid (APNs 410 Unregistered or 400 BadDeviceToken, FCM UNREGISTERED) is removed.",
  security: [{ [USER_TOKEN_SCHEME]: [] }],
  request: { body: body(deviceCreateSchema) },
  responses: { 201: json(deviceSchema, "The device, stored."), ...USER_BODY_ERRORS },
});

export const listDevicesRoute = createRoute({
  method: "get",
  path: "/v1/push/devices",
  tags: DEVICE_TAGS,
  summary: "List this user's push devices",
  description: "Called with the **user token**. The caller's registered devices, oldest first.",
  security: [{ [USER_TOKEN_SCHEME]: [] }],
  responses: { 200: json(deviceListSchema, "The devices."), ...errors(429, 500, 503), 401: USER_TOKEN_401 },
});

export const deleteDeviceRoute = createRoute({
  method: "delete",
  path: "/v1/push/devices/{token}",
  tags: DEVICE_TAGS,
  summary: "Unregister a phone from native push",
  description: "Called with the **user token** (when the user signs out of the app). Removes the caller's device with this token.",
  security: [{ [USER_TOKEN_SCHEME]: [] }],
  request: { params: deviceTokenParamSchema },
  responses: { 204: { description: "Removed." }, ...errors(400, 404, 429, 500, 503), 401: USER_TOKEN_401 },
});

/** Every push route, in documentation order; {@link registerPushRoutes} registers exactly these. */
export const PUSH_ROUTES = [vapidPublicKeyRoute, createPushSubscriptionRoute, deletePushSubscriptionRoute, createDeviceRoute, listDevicesRoute, deleteDeviceRoute] as const;

/**
 * Registers the push routes. They must come before the `/v1` API key middleware, which they
 * answer in place of. The user token is checked before the body is validated.
 */
export function registerPushRoutes(app: OpenAPIHono<HttpEnv>, deps: PushHttpDeps): void {
  const auth = userAuth(deps.tokens);

  app.openapi(vapidPublicKeyRoute, (c) => {
    // Cached briefly: the key changes only when an operator replaces it.
    c.header("Cache-Control", "public, max-age=300");
    return c.json({ publicKey: deps.publicKey() }, 200);
  });

  app.openapi({ ...createPushSubscriptionRoute, middleware: [auth] as const }, async (c) => {
    const saved = await deps.subscriptions.subscribe(c.get("user").userId, c.req.valid("json"), c.req.header("user-agent"));
    return c.json({ id: saved.id, endpoint: saved.endpoint, createdAt: saved.createdAt }, 201);
  });

  app.openapi({ ...deletePushSubscriptionRoute, middleware: [auth] as const }, async (c) => {
    await deps.subscriptions.unsubscribe(c.get("user").userId, c.req.valid("json").endpoint);
    return c.body(null, 204);
  });

  app.openapi({ ...createDeviceRoute, middleware: [auth] as const }, async (c) => {
    const saved = await deps.devices.register(c.get("user").userId, c.req.valid("json"));
    return c.json(toWire(saved), 201);
  });

  app.openapi({ ...listDevicesRoute, middleware: [auth] as const }, async (c) => {
    return c.json({ devices: (await deps.devices.list(c.get("user").userId)).map(toWire) }, 200);
  });

  app.openapi({ ...deleteDeviceRoute, middleware: [auth] as const }, async (c) => {
    await deps.devices.unregister(c.get("user").userId, c.req.valid("param").token);
    return c.body(null, 204);
  });
}

/** A device as the API shows it (the badge bookkeeping stays inside). */
function toWire(device: DeviceRecord) {
  return { id: device.id, platform: device.platform, token: device.token, ...(device.appId ? { appId: device.appId } : {}), createdAt: device.createdAt, updatedAt: device.updatedAt };
}
