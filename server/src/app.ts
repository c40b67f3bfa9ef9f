import { randomBytes } from "node:crypto";
import fs from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { S3Client } from "@aws-sdk/client-s3";
import { createAdaptorServer } from "@hono/node-server";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { MongoClient } from "mongodb";
import { Server } from "socket.io";
import { LIMITS } from "../../client-sdk/src/protocol.js";
import { ApiKeyService } from "./auth/api-key-service.js";
import { TokenService } from "./auth/token-service.js";
import { ConfigError, type Config, type EmailConfig } from "./config.js";
import { connectRedis, type RedisConnections } from "./cluster/redis-connections.js";
import { explainUnknownSessions } from "./cluster/sticky-session-check.js";
import { ChatEvents } from "./core/chat-events.js";
import { ConversationService } from "./core/conversation-service.js";
import { MessageService } from "./core/message-service.js";
import { PresenceService } from "./core/presence-service.js";
import { TypingService } from "./core/typing-service.js";
import { UserService } from "./core/user-service.js";
import { RateLimit } from "./limits/rate-limit.js";
import { createLogger, type Logger } from "./logger.js";
import { InMemoryPresenceRegistry } from "./presence/in-memory-presence-registry.js";
import { RedisPresenceRegistry } from "./presence/redis-presence-registry.js";
import { Metrics, type MetricsOptions } from "./metrics/metrics.js";
import { loadOrCreateSecret } from "./secret-file.js";
import type { IdempotencyStore } from "./idempotency/idempotency-store.js";
import { MongoIdempotencyStore } from "./idempotency/mongo-idempotency-store.js";
import { SqliteIdempotencyStore } from "./idempotency/sqlite-idempotency-store.js";
import { MongoStore } from "./store/mongo-store.js";
import { openSqliteDatabase, SqliteStore, type SqliteStoreOptions } from "./store/sqlite-store.js";
import type { Store } from "./store/store.js";
import { createHttpApi, type Readiness } from "./transport/http-api.js";
import { InflightTracker } from "./transport/inflight-tracker.js";
import { createOriginPolicy } from "./transport/origin-policy.js";
import { attachSocketGateway, userRoom, type SwitchboardServer } from "./transport/socket-gateway.js";
import { DemoAssets } from "./demo/demo-assets.js";
import { DEMO_WIDGET_KEY, seedDemo } from "./demo/demo-seed.js";
import { MongoSupportStore } from "./support/mongo-support-store.js";
import { SqliteSupportStore } from "./support/sqlite-support-store.js";
import { SupportService } from "./support/support-service.js";
import type { SupportStore } from "./support/support-store.js";
import { attachSupportFanout } from "./transport/socket-support-handlers.js";
import { DeliveryPlanner } from "./delivery/delivery-planner.js";
import type { Delivery, DeliveryStore, MobileChannel } from "./delivery/delivery-store.js";
import { DeliveryWorker } from "./delivery/delivery-worker.js";
import { EmailAddresses } from "./delivery/email/email-addresses.js";
import { EmailService } from "./delivery/email/email-service.js";
import type { EmailStore } from "./delivery/email/email-store.js";
import { MongoEmailStore } from "./delivery/email/mongo-email-store.js";
import { SqliteEmailStore } from "./delivery/email/sqlite-email-store.js";
import { MongoDeliveryStore } from "./delivery/mongo-delivery-store.js";
import { NotificationSettingsService } from "./delivery/notification-settings-service.js";
import { ApnsSender } from "./delivery/mobile/apns-sender.js";
import { DeviceService } from "./delivery/mobile/device-service.js";
import type { DeviceStore } from "./delivery/mobile/device-store.js";
import { ExpoSender } from "./delivery/mobile/expo-sender.js";
import { FcmSender } from "./delivery/mobile/fcm-sender.js";
import type { MobilePushSender } from "./delivery/mobile/mobile-push-sender.js";
import { MobilePushService } from "./delivery/mobile/mobile-push.js";
import { MongoDeviceStore } from "./delivery/mobile/mongo-device-store.js";
import { SqliteDeviceStore } from "./delivery/mobile/sqlite-device-store.js";
import { PushSubscriptionService } from "./delivery/push/push-subscriptions.js";
import { resolveVapidKeys } from "./delivery/push/vapid-keys.js";
import { WebPushSender } from "./delivery/push/web-push-sender.js";
import { SandboxSmsGateway } from "./delivery/sms/sandbox-sms-gateway.js";
import type { SmsGateway } from "./delivery/sms/sms-gateway.js";
import { InboundMediaFetcher } from "./delivery/sms/inbound-media-fetcher.js";
import { SmsService } from "./delivery/sms/sms-service.js";
import { UploadMmsMedia } from "./delivery/sms/upload-mms-media.js";
import { TwilioSmsGateway } from "./delivery/sms/twilio-sms-gateway.js";
import { SqliteDeliveryStore } from "./delivery/sqlite-delivery-store.js";
import { createPreSendHookAgent, HttpPreSendHook } from "./moderation/http-pre-send-hook.js";
import { DestinationPolicy } from "./webhooks/destination-policy.js";
import { MongoWebhookStore } from "./webhooks/mongo-webhook-store.js";
import { SqliteWebhookStore } from "./webhooks/sqlite-webhook-store.js";
import { WebhookDispatcher } from "./webhooks/webhook-dispatcher.js";
import { WebhookService } from "./webhooks/webhook-service.js";
import type { WebhookStore } from "./webhooks/webhook-store.js";
import type { BlobStore } from "./blobs/blob-store.js";
import { FsBlobStore } from "./blobs/fs-blob-store.js";
import { S3BlobStore } from "./blobs/s3-blob-store.js";
import { withAttachmentLinks } from "./uploads/attachment-links-store.js";
import { MongoUploadStore } from "./uploads/mongo-upload-store.js";
import { SqliteUploadStore } from "./uploads/sqlite-upload-store.js";
import { resolveLinkKey, UploadLinks } from "./uploads/upload-links.js";
import { UploadService } from "./uploads/upload-service.js";
import type { UploadStore } from "./uploads/upload-store.js";
import { UploadSweeper } from "./uploads/upload-sweeper.js";

/** A running (or ready to run) Switchboard node. */
export interface SwitchboardApp {
  readonly config: Config;
  readonly logger: Logger;
  /** The port actually bound (useful with `PORT=0`); 0 before `listen`. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`, for tests and local tools. */
  readonly localUrl: string;
  /** The port the inbound email listener bound (useful with `INBOUND_EMAIL_SMTP_PORT=0`); undefined while it is off. */
  readonly inboundEmailPort?: number;
  /** The admin API key generated on this start, if one was (it is never shown again). */
  readonly generatedAdminKey?: string;
  /** Uploaded files: for embedding code and the SMS bridge's MMS (signed links, the MMS variant). */
  readonly uploads: UploadService;
  /** Calls the HTTP API in-process, without a socket (Hono's `app.request`), for tests. */
  request(input: string, init?: RequestInit): Promise<Response>;
  /** Binds `config.host:config.port`. */
  listen(): Promise<void>;
  /** Graceful stop: refuse new work, tell clients, finish in-flight writes, close the store. */
  close(): Promise<void>;
}

/** Options for embedding and tests. */
export interface AppOptions {
  /** Use this logger instead of one built from the config. */
  logger?: Logger;
  /** HTTPS agent for requests to push services (tests use one that trusts their local push service's certificate). */
  pushAgent?: HttpsAgent;
  /** Extra CA certificates (PEM) to trust for APNs (tests trust their local HTTP/2 server's certificate this way). */
  apnsCa?: string;
  /**
   * The SSRF guard of inbound MMS media downloads (tests allow their local Twilio stand-in only).
   * Default: the webhooks' rule, private addresses refused unless `WEBHOOK_ALLOW_PRIVATE`.
   */
  inboundMediaDestinations?: Pick<DestinationPolicy, "check">;
}

/** Where the demo app's static files are. */
const DEMO_DIR = fileURLToPath(new URL("../../demo-app/public/", import.meta.url));
/** The widget session limit's description, as rate-limited callers read it. */
const WIDGET_SESSION_LIMIT = (config: Config) => `${config.support.widgetSessionsPerMinute} widget sessions per minute per IP address`;
/** The upload limit's description, as rate-limited callers read it. */
const UPLOAD_LIMIT = (config: Config) => `${config.uploads.uploadsPerMinute} uploads per minute per user or API key (RATE_LIMIT_UPLOADS)`;
/** Where the demo app's TypeScript is, bundled on first request (`server/src/demo/demo-assets.ts`). */
const DEMO_SOURCE_DIR = fileURLToPath(new URL("../../demo-app/src/", import.meta.url));

/**
 * The composition root: the only place that picks drivers and creates clients (database,
 * Socket.IO, HTTP), then hands them to the services and transports that use them.
 */
export async function createApp(config: Config, options: AppOptions = {}): Promise<SwitchboardApp> {
  const logger = options.logger ?? createLogger(config);
  // Before anything is opened: a hook URL the SSRF guard refuses stops the start.
  const preSendDestinations = new DestinationPolicy({ allowPrivate: config.webhooks.allowPrivate });
  if (config.preSendHook) await checkPreSendDestination(config.preSendHook.url, preSendDestinations, logger);
  fs.mkdirSync(config.dataDir, { recursive: true });

  const jwtSecret = config.jwt.secret ?? loadOrCreateSecret(path.join(config.dataDir, "jwt-secret")).secret;
  // The store opens before the metrics exist; its group commits and WAL syncs are counted once they do.
  let storeMetrics: Metrics | undefined;
  const { store: rawStore, webhookStore, idempotency, supportStore, deliveryStore, emailStore, deviceStore, uploadStore, closeStore, storeName, walCheckpoints } = await openStore(config, logger, {
    onGroupCommit: (commit) => storeMetrics?.groupCommit(commit.size, commit.durationMs / 1000),
    onWalSync: (sync) => storeMetrics?.walSync(sync.durationMs / 1000),
  });
  const links = new UploadLinks({ key: await resolveLinkKey(uploadStore), publicUrl: config.publicUrl, ttlSeconds: config.uploads.urlTtlSeconds });
  // Every service reads messages through this wrapper, so every answer carries fresh download links.
  const store = withAttachmentLinks(rawStore, links);
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
  const metrics = new Metrics({
    nodeId: config.nodeId,
    checks: {
      store: () => store.ping().then(() => true),
      ...(redis ? { redis: () => redis.isUp() } : {}),
    },
    preSendHook: Boolean(config.preSendHook),
    ...(walCheckpoints ? { walCheckpoints } : {}),
  });

  storeMetrics = metrics;
  const events = new ChatEvents((err, event) => logger.error({ err, event: event.type }, "event listener failed"));
  const tokens = new TokenService({ ...config.jwt, secret: jwtSecret });
  const apiKeys = new ApiKeyService(store, { rotationGraceMs: config.apiKeyRotationGraceHours * 3_600_000 });
  const users = new UserService(store);
  const conversations = new ConversationService(store, events, { memberListLimit: config.limits.memberListLimit });
  const { blobs, closeBlobs } = openBlobStore(config);
  const uploads = new UploadService({
    store: uploadStore,
    blobs,
    links,
    isMember: async (conversationId, userId) => (await store.getMember(conversationId, userId)) !== null,
    tempDir: path.join(config.dataDir, "tmp", "uploads"),
    maxBytes: config.uploads.maxBytes,
    allowedTypes: config.uploads.allowedTypes,
    unattachedTtlSeconds: config.uploads.unattachedTtlSeconds,
    deletedRetentionSeconds: config.uploads.deletedRetentionSeconds,
    maxImagePixels: config.uploads.maxImagePixels,
    onError: (err, task, context) => logger.error({ err, task, ...context }, "upload bookkeeping failed"),
  });
  const uploadSweeper = new UploadSweeper({
    sweep: (now, limit) => uploads.sweep(now, limit),
    intervalMs: config.uploads.sweepIntervalMs,
    logger: logger.child({ component: "upload-sweeper" }),
  });
  // The hook's keep-alive pool: once warm, a call costs one round trip and no handshake.
  const preSendAgent = config.preSendHook ? createPreSendHookAgent(config.preSendHook.url) : undefined;
  const preSend = config.preSendHook
    ? new HttpPreSendHook({
        ...config.preSendHook,
        agent: preSendAgent!,
        destinations: preSendDestinations,
        logger: logger.child({ component: "pre-send-hook" }),
        onCall: (outcome, seconds) => metrics.preSendHookCall(outcome, seconds),
      })
    : undefined;
  if (config.preSendHook) logger.info({ url: preSend!.logUrl, timeoutMs: config.preSendHook.timeoutMs, failurePolicy: config.preSendHook.failurePolicy }, "pre-send hook on: every user message is checked before it is stored");
  const messages = new MessageService(store, conversations, events, { attachments: uploads, ...(preSend ? { preSend } : {}) });
  const presence = new PresenceService(
    redis ? new RedisPresenceRegistry(redis.commands, { nodeId: config.nodeId }) : new InMemoryPresenceRegistry(),
    store,
    events,
    { ...config.presence, onError: (err, task) => logger.warn({ err, task }, "presence background task failed") },
  );
  // Redis keeps nothing on disk: after it restarts, this node's connections are registered again.
  redis?.onRecovered(() => void presence.restore().catch((err) => logger.warn({ err }, "presence restore failed")));
  await presence.start();
  const typing = new TypingService(conversations, events, config.typingTtlSeconds * 1000);
  const support = new SupportService(store, supportStore, conversations, presence, {
    publicOrigin: new URL(config.publicUrl).origin,
    disabledWidgetKeys: config.support.demoMode ? [] : [DEMO_WIDGET_KEY],
    onError: (err, task) => logger.warn({ err, task }, "support desk background task failed"),
  });
  const detachSupport = support.attach(events);
  if (config.support.demoMode) {
    await seedDemo(users, support);
    logger.warn("DEMO_MODE is on: anyone who can reach this server can sign in as a demo agent at / (set DEMO_MODE=0 in production)");
  }
  const { webhooks, webhookDispatcher } = createWebhooks(config, webhookStore, events, logger);
  const offline = await createOfflineDelivery(config, {
    deliveryStore,
    emailStore,
    links,
    deviceStore,
    store,
    users,
    conversations,
    messages,
    presence,
    events,
    logger,
    redis,
    metrics,
    uploads,
    ...(options.pushAgent ? { pushAgent: options.pushAgent } : {}),
    ...(options.apnsCa ? { apnsCa: options.apnsCa } : {}),
    ...(options.inboundMediaDestinations ? { inboundMediaDestinations: options.inboundMediaDestinations } : {}),
  });
  const inflight = new InflightTracker();
  const originAllowed = createOriginPolicy(config);
  const limits = {
    socketEvents: RateLimit.inMemory(config.limits.socketEventsPer10s, 10, `${config.limits.socketEventsPer10s} events per 10 s per connection`),
    // Per user and per API key, shared by every node through Redis in cluster mode (per
    // connection needs no sharing: a connection lives on one node).
    messages: sharedLimit(redis, config.limits.messagesPer10s, `${config.limits.messagesPer10s} messages per 10 s per user`, "switchboard:rl:messages"),
    http: sharedLimit(redis, config.limits.httpPer10s, `${config.limits.httpPer10s} requests per 10 s per API key`, "switchboard:rl:http"),
    // Per client IP and minute: the one unauthenticated route that writes (a visitor and a conversation).
    widgetSessions: redis
      ? RateLimit.redis(redis.commands, config.support.widgetSessionsPerMinute, 60, WIDGET_SESSION_LIMIT(config), "switchboard:rl:widget")
      : RateLimit.inMemory(config.support.widgetSessionsPerMinute, 60, WIDGET_SESSION_LIMIT(config)),
    // Per owner (user or API key) and minute: each upload costs disk, CPU (images) and bandwidth.
    uploads: redis
      ? RateLimit.redis(redis.commands, config.uploads.uploadsPerMinute, 60, UPLOAD_LIMIT(config), "switchboard:rl:uploads")
      : RateLimit.inMemory(config.uploads.uploadsPerMinute, 60, UPLOAD_LIMIT(config)),
  };

  const { generatedKey } = await apiKeys.bootstrap(config.adminApiKey);

  let state: "starting" | "ready" | "stopping" = "starting";
  const readiness: Readiness = async () => {
    const checks: Record<string, string> = {};
    try {
      await store.ping();
      checks.store = "ok";
    } catch (err) {
      checks.store = err instanceof Error ? err.message : "unreachable";
    }
    if (redis) checks.redis = redis.isUp() ? "ok" : "disconnected: cross-node delivery and presence are degraded";
    checks.node = state === "ready" ? "ok" : state;
    return { ok: Object.values(checks).every((c) => c === "ok"), checks };
  };

  const api = createHttpApi({
    config,
    logger,
    tokens,
    apiKeys,
    users,
    conversations,
    messages,
    limits: { http: limits.http, messages: limits.messages },
    readiness,
    inflight,
    originAllowed,
    demoDir: DEMO_DIR,
    storeName,
    metrics,
    metricsToken: config.metricsToken,
    idempotency,
    webhooks,
    support: { service: support, tokens, sessionLimit: limits.widgetSessions, visitorTokenTtlSeconds: config.support.visitorTokenTtlSeconds },
    demo: { assets: new DemoAssets(DEMO_SOURCE_DIR), tokens, demoMode: config.support.demoMode },
    offline: {
      push: { tokens, subscriptions: offline.pushSubscriptions, devices: offline.devices, publicKey: () => offline.vapidPublicKey },
      sms: {
        sms: offline.sms,
        provider: config.delivery.sms.provider,
        ...(config.delivery.sms.twilio.authToken ? { authToken: config.delivery.sms.twilio.authToken } : {}),
        publicUrl: config.publicUrl,
        apiKeys,
        ...(offline.sandbox ? { sandbox: offline.sandbox } : {}),
        store: deliveryStore,
        sandboxMediaMaxBytes: config.uploads.mmsInboundMaxBytes,
        mediaLinks: (uploadId: string) => offline.mmsMedia.linkUrl(uploadId),
      },
      settings: { settings: offline.settings, tokens },
      email: offline.email ? { email: offline.email.service } : {},
    },
    uploads: { uploads, links, tokens, apiKeys, limit: limits.uploads },
  });
  const httpServer = createAdaptorServer({ fetch: api.fetch }) as HttpServer;

  const io: SwitchboardServer = new Server(httpServer, {
    // A chat frame is small; the 1 MB default only invites memory abuse.
    maxHttpBufferSize: LIMITS.maxFrameBytes,
    serveClient: false,
    transports: config.allowPolling ? ["polling", "websocket"] : ["websocket"],
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      if (originAllowed(origin, req.headers.host)) return callback(null, true);
      // Pages that embed the support widget connect from their own origins, listed on widget keys.
      if (origin) {
        void support.isWidgetOrigin(origin).then(
          (allowed) => {
            if (allowed) return callback(null, true);
            logger.warn({ origin }, "connection refused: origin not allowed (set ALLOWED_ORIGINS)");
            callback(`Origin ${origin} is not allowed; add it to ALLOWED_ORIGINS on the server.`, false);
          },
          () => callback("The origin could not be checked; try again.", false),
        );
        return;
      }
      logger.warn({ origin }, "connection refused: origin not allowed (set ALLOWED_ORIGINS)");
      callback(`Origin ${origin} is not allowed; add it to ALLOWED_ORIGINS on the server.`, false);
    },
    cors: {
      origin: (origin, callback) => callback(null, originAllowed(origin, undefined) ? origin ?? false : false),
      credentials: true,
    },
  });
  if (redis) attachCluster(io, redis, config, logger);

  const detachGateway = attachSocketGateway({
    io,
    tokens,
    users,
    conversations,
    messages,
    presence,
    typing,
    events,
    limits: { socketEvents: limits.socketEvents, messages: limits.messages },
    joinedConversationsPerSocket: config.limits.joinedConversationsPerSocket,
    inflight,
    logger,
    metrics,
    support,
  });
  const detachSupportFanout = attachSupportFanout(io, support, userRoom);

  let port = 0;
  return {
    config,
    logger,
    get port() {
      return port;
    },
    get localUrl() {
      return `http://127.0.0.1:${port}`;
    },
    get inboundEmailPort() {
      return offline.email?.inbound?.port;
    },
    ...(generatedKey ? { generatedAdminKey: generatedKey } : {}),
    uploads,
    request: async (input, init) => api.request(input, init),
    async listen() {
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => {
          httpServer.off("error", reject);
          resolve();
        });
      });
      port = (httpServer.address() as AddressInfo).port;
      await offline.email?.inbound?.listen();
      state = "ready";
      webhookDispatcher.start();
      offline.worker.start();
      uploadSweeper.start();
      logger.info({ port, host: config.host, store: storeName, dataDir: config.dataDir }, "switchboard listening");
    },
    async close() {
      if (state === "stopping") return;
      state = "stopping";
      logger.info({ inflight: inflight.size }, "shutting down: refusing new connections, finishing in-flight work");
      // Stop accepting first, then tell connected clients, so none reconnects to this node.
      httpServer.close();
      io.local.emit("session:end", { code: "unavailable", message: "The server is shutting down; reconnect to continue." });
      io.local.disconnectSockets(true);
      const drained = await inflight.drain(config.shutdownTimeoutMs);
      if (!drained) logger.warn({ inflight: inflight.size }, "shutdown timeout reached with work still in flight");
      detachGateway();
      detachSupportFanout();
      detachSupport();
      offline.detach();
      support.close();
      // Before Redis and the store close: it finishes a beat under way and retires this node.
      await presence.close();
      typing.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      httpServer.closeAllConnections();
      await redis?.close();
      // Sends are drained: no call is in flight, only idle pooled connections are left.
      preSendAgent?.destroy();
      // Events of the drained requests are recorded first; then sends in flight get a grace period.
      await offline.email?.inbound?.close();
      await offline.worker.stop(Math.min(config.shutdownTimeoutMs, config.delivery.push.timeoutMs));
      offline.email?.sender.close();
      await offline.mobile.close();
      await webhooks.close();
      await webhookDispatcher.stop(Math.min(config.shutdownTimeoutMs, config.webhooks.timeoutMs));
      await uploadSweeper.stop();
      closeBlobs();
      await closeStore();
      logger.info("shut down");
    },
  };
}

/**
 * The start-time SSRF check of `PRESEND_HOOK_URL`: a private or reserved destination without
 * `WEBHOOK_ALLOW_PRIVATE` is a configuration error. A name that does not resolve yet is only
 * warned about: DNS may come up after this node, and every call checks again.
 */
async function checkPreSendDestination(url: string, destinations: DestinationPolicy, logger: Logger): Promise<void> {
  const verdict = await destinations.check(url);
  switch (verdict.verdict) {
    case "allowed":
      return;
    case "refused":
      throw new ConfigError(
        `Invalid configuration:\n  PRESEND_HOOK_URL: ${verdict.reason}; the pre-send hook must be a public address, or set WEBHOOK_ALLOW_PRIVATE=1 to allow private ones (private deployments, tests)`,
      );
    case "unresolved":
      logger.warn({ reason: verdict.reason }, "PRESEND_HOOK_URL does not resolve now; sends follow PRESEND_HOOK_FAILURE until it does");
      return;
    default: {
      const exhaustive: never = verdict;
      return exhaustive;
    }
  }
}

/**
 * Cluster mode: the Redis adapter fans room broadcasts out to every node, and after a Redis
 * outage (broadcasts in between are lost) every client of this node is told to resync.
 */
function attachCluster(io: SwitchboardServer, redis: RedisConnections, config: Config, logger: Logger): void {
  io.adapter(
    config.clusterAdapter === "sharded"
      ? createShardedAdapter(redis.pub, redis.sub, { channelPrefix: "switchboard" })
      : createAdapter(redis.pub, redis.sub, { key: "switchboard" }),
  );
  redis.onRecovered(() => {
    io.local.emit("resync", { reason: "Redis was unreachable; live events may have been missed." });
  });
  explainUnknownSessions(io, config.nodeId, logger);
  logger.info({ adapter: config.clusterAdapter, nodeId: config.nodeId }, "cluster mode: Redis adapter attached");
}

/**
 * Outbound webhooks: the service records events for endpoints as the core announces them, and
 * this node's dispatcher (started once listening) sends them, with every other node's.
 */
function createWebhooks(config: Config, store: WebhookStore, events: ChatEvents, logger: Logger) {
  const { webhooks: c } = config;
  const destinations = new DestinationPolicy({ allowPrivate: c.allowPrivate });
  const webhookDispatcher = new WebhookDispatcher({
    store,
    destinations,
    logger,
    timeoutMs: c.timeoutMs,
    retryScheduleMs: c.retryScheduleMs,
    disableAfterFailures: c.disableAfterFailures,
    disableAfterMs: c.disableAfterHours * 3_600_000,
    pollIntervalMs: c.pollIntervalMs,
    retentionMs: c.retentionDays * 86_400_000,
  });
  const webhooks = new WebhookService(store, destinations, {
    secretGraceHours: c.secretGraceHours,
    onEnqueued: () => webhookDispatcher.kick(),
    onEnqueueError: (err, eventType) => logger.error({ err, eventType }, "webhook event could not be recorded; it will not be sent"),
  });
  webhooks.attach(events);
  return { webhooks, webhookDispatcher };
}

/** What {@link createOfflineDelivery} wires together. */
interface OfflineDeps {
  deliveryStore: DeliveryStore;
  emailStore: EmailStore;
  /** Signed download links, for attachments in emails. */
  links: UploadLinks;
  deviceStore: DeviceStore;
  store: Store;
  users: UserService;
  conversations: ConversationService;
  messages: MessageService;
  presence: PresenceService;
  events: ChatEvents;
  logger: Logger;
  redis: RedisConnections | undefined;
  metrics: Metrics;
  /** Uploaded files, for MMS media (signed links, the MMS variant, inbound media). */
  uploads: UploadService;
  pushAgent?: HttpsAgent;
  apnsCa?: string;
  inboundMediaDestinations?: Pick<DestinationPolicy, "check">;
}

/**
 * Reaching offline users: the planner decides who gets a push or an SMS as messages are stored,
 * and this node's worker (started once listening) sends what is due, with every other node's.
 * Every change of a delivery is announced as `delivery.updated` (webhooks pick it up).
 */
async function createOfflineDelivery(config: Config, deps: OfflineDeps) {
  const { delivery: c } = config;
  const { deliveryStore: store, events, logger, redis } = deps;
  const onChanged = (delivery: Delivery) => events.publish({ type: "delivery.updated", delivery });
  const log = logger.child({ component: "offline-delivery" });

  const vapid = await resolveVapidKeys(c.push, store);
  if (vapid.generated) log.info({ publicKey: vapid.publicKey }, "generated a VAPID key pair for Web Push and stored it (set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY to choose your own)");
  // Checked when a browser subscribes and again before every send: DNS answers can change.
  const pushDestinations = new DestinationPolicy({ allowPrivate: c.push.allowPrivate });
  const pushSender = new WebPushSender({
    vapid: { subject: vapid.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
    timeoutMs: c.push.timeoutMs,
    destinations: pushDestinations,
    ...(deps.pushAgent ? { agent: deps.pushAgent } : {}),
  });
  const pushSubscriptions = new PushSubscriptionService(store, {
    destinations: pushDestinations,
    maxSubscriptionsPerUser: c.push.maxSubscriptionsPerUser,
  });

  // Native mobile push: a provider whose variables are unset is simply off.
  const senders: Partial<Record<MobileChannel, MobilePushSender>> = {};
  if (c.mobile.fcm) {
    senders.fcm = new FcmSender({ serviceAccount: c.mobile.fcm.serviceAccount, baseUrl: c.mobile.fcm.baseUrl, timeoutMs: c.push.timeoutMs, ttlSeconds: c.push.ttlSeconds });
    log.info({ project: c.mobile.fcm.serviceAccount.projectId, baseUrl: c.mobile.fcm.baseUrl }, "FCM on: Android devices get native push");
  }
  if (c.mobile.apns) {
    const a = c.mobile.apns;
    senders.apns = new ApnsSender({ keyPem: a.keyPem, keyId: a.keyId, teamId: a.teamId, topic: a.topic, baseUrl: a.baseUrl, timeoutMs: c.push.timeoutMs, ttlSeconds: c.push.ttlSeconds, ...(deps.apnsCa ? { ca: deps.apnsCa } : {}) });
    log.info({ topic: a.topic, env: a.env, baseUrl: a.baseUrl }, "APNs on: iOS devices get native push");
  }
  if (c.mobile.expo) {
    senders.expo = new ExpoSender({ baseUrl: c.mobile.expo.baseUrl, ...(c.mobile.expo.accessToken ? { accessToken: c.mobile.expo.accessToken } : {}), timeoutMs: c.push.timeoutMs, ttlSeconds: c.push.ttlSeconds });
    log.info({ baseUrl: c.mobile.expo.baseUrl }, "Expo push on: devices registered with an Expo push token get native push");
  }
  const mobile = new MobilePushService({
    devices: deps.deviceStore,
    senders,
    // The badge: unread messages across the user's 100 most recently active conversations.
    unreadCount: async (userId) => (await deps.store.listConversations(userId, { limit: 100 })).reduce((sum, s) => sum + s.unreadCount, 0),
    logger: log,
  });
  const devices = new DeviceService(deps.deviceStore, { maxDevicesPerUser: c.mobile.maxDevicesPerUser });

  // Inbound MMS: the provider's media URLs are fetched like a webhook destination is reached.
  const twilio = c.sms.provider === "twilio" ? c.sms.twilio : undefined;
  const mediaFetcher = new InboundMediaFetcher({
    destinations: deps.inboundMediaDestinations ?? new DestinationPolicy({ allowPrivate: config.webhooks.allowPrivate }),
    maxBytes: config.uploads.mmsInboundMaxBytes,
    timeoutMs: c.sms.timeoutMs,
    ...(twilio?.accountSid && twilio.authToken ? { credentials: { origin: twilio.apiBaseUrl, username: twilio.accountSid, password: twilio.authToken } } : {}),
  });
  // MMS both ways: a message's pictures go as signed links to their MMS variant, and a phone
  // user's pictures become their uploads.
  const mmsMedia = new UploadMmsMedia(deps.uploads, { maxBytes: config.uploads.mmsMaxBytes, urlTtlSeconds: config.uploads.mmsMediaUrlTtlSeconds });
  const sms = new SmsService({
    store,
    users: deps.users,
    conversations: deps.conversations,
    messages: deps.messages,
    chat: deps.store,
    media: mmsMedia,
    mediaFetcher,
    fromNumbers: c.sms.fromNumbers,
    keywordReplies: c.sms.keywordReplies,
    helpText: c.sms.helpText,
    onDeliveryChanged: onChanged,
    logger: log,
  });
  let sandbox: SandboxSmsGateway | undefined;
  let gateway: SmsGateway;
  if (c.sms.provider === "twilio") {
    gateway = new TwilioSmsGateway({
      accountSid: c.sms.twilio.accountSid ?? "",
      authToken: c.sms.twilio.authToken ?? "",
      apiBaseUrl: c.sms.twilio.apiBaseUrl,
      timeoutMs: c.sms.timeoutMs,
    });
  } else {
    sandbox = new SandboxSmsGateway({
      store,
      // Resolves null while the worker has not yet stored the sid: the sandbox then reports again.
      onStatus: (webhook) => (webhook.kind === "status" ? sms.handleStatus(webhook) : undefined),
      logger: log,
    });
    gateway = sandbox;
  }
  const perNumberDescription = `${c.sms.perNumberPerSecond} texts per second per number (SMS_PER_NUMBER_PER_SECOND)`;
  const perNumberLimit = redis
    ? RateLimit.redis(redis.commands, c.sms.perNumberPerSecond, 1, perNumberDescription, "switchboard:rl:sms-number")
    : RateLimit.inMemory(c.sms.perNumberPerSecond, 1, perNumberDescription);

  const email = c.email ? await createEmailChannel(config, c.email, deps, onChanged, log) : undefined;

  const worker = new DeliveryWorker({
    store,
    chat: deps.store,
    presence: deps.presence,
    ...(email ? { email: { sender: email.sender, service: email.service } } : {}),
    push: { sender: pushSender, options: { ttlSeconds: c.push.ttlSeconds, urgency: c.push.urgency }, url: config.publicUrl },
    ...(mobile.enabled ? { mobile } : {}),
    sms: {
      gateway,
      chooseNumber: (phone, userId, conversationId, now) => sms.chooseNumber(phone, userId, conversationId, now),
      composeBody: (input) => sms.composeBody(input),
      outboundMedia: (message) => sms.outboundMedia(message),
      perNumberLimit,
      statusCallbackUrl: `${config.publicUrl}/v1/sms/status`,
      recordProviderOptOut: (phone, note, now) => store.appendConsent({ phone, action: "opt_out", source: "provider", note, at: new Date(now).toISOString() }),
    },
    logger: log,
    retryScheduleMs: c.retryScheduleMs,
    pollIntervalMs: c.pollIntervalMs,
    retentionMs: c.retentionDays * 86_400_000,
    sendTimeoutMs: Math.max(c.push.timeoutMs, c.sms.timeoutMs, c.email?.timeoutMs ?? 0),
    onChanged,
    onAttempt: (channel, outcome) => deps.metrics.offlineAttempt(channel, outcome),
  });
  const planner = new DeliveryPlanner({
    store,
    chat: deps.store,
    presence: deps.presence,
    ...(mobile.enabled ? { mobile } : {}),
    ladder: c.ladder,
    ...(email ? { emailAllowed: email.allowed } : {}),
    collapseWindowMs: c.collapseWindowMs,
    onChanged,
    onScheduled: () => worker.kick(),
    onError: (err, task, context) => log.error({ err, task, ...context }, "offline delivery planning failed; the message is stored, its notifications may be missing"),
  });
  const detachPlanner = planner.attach(events);
  const detachBadges = mobile.attach(events);
  log.info({ ladder: c.ladder.map((step) => `${step.channel}:${step.delayMs}ms`) }, "offline delivery ladder (DELIVERY_LADDER)");
  const skipped = c.ladder.map((step) => step.channel).filter((channel) => !(planner.channels() as string[]).includes(channel));
  if (skipped.length > 0) log.warn({ skipped }, "offline delivery: these ladder channels have no sender in this build and are skipped");
  const settings = new NotificationSettingsService(store, deps.store, deps.conversations, onChanged);
  return {
    worker,
    detach: () => {
      detachPlanner();
      detachBadges();
      sandbox?.close();
    },
    email,
    settings,
    pushSubscriptions,
    devices,
    mobile,
    vapidPublicKey: vapid.publicKey,
    sms,
    sandbox,
    mmsMedia,
  };
}

/** How long links to attachments in an email work: it may be read days later. */
const EMAIL_ATTACHMENT_LINK_TTL_SECONDS = 7 * 86_400;

/**
 * The email channel (`SMTP_URL` set): the signing key of its reply, bounce and unsubscribe
 * addresses (generated once and shared by every node through the delivery settings), the SMTP
 * sender, the service, and the inbound SMTP listener when `INBOUND_EMAIL_SMTP_PORT` is set (it
 * starts listening with the node).
 */
async function createEmailChannel(config: Config, c: EmailConfig, deps: OfflineDeps, onChanged: (delivery: Delivery) => void, log: Logger) {
  const key = await deps.deliveryStore.putSettingIfAbsent("email-signing-key", randomBytes(32).toString("base64url"));
  const addresses = new EmailAddresses(Buffer.from(key, "base64url"), c.replyDomain);
  // Loaded only when email is on: nodemailer, mailparser and smtp-server add about a second to
  // every start on a busy machine, for nothing where SMTP_URL is unset.
  const [{ SmtpEmailSender }, { SmtpInboundServer }] = await Promise.all([import("./delivery/email/smtp-email-sender.js"), import("./transport/smtp-inbound-server.js")]);
  const sender = new SmtpEmailSender({ url: c.smtpUrl, timeoutMs: c.timeoutMs });
  const service = new EmailService({
    store: deps.emailStore,
    deliveries: deps.deliveryStore,
    chat: deps.store,
    conversations: deps.conversations,
    messages: deps.messages,
    addresses,
    from: c.from,
    publicUrl: config.publicUrl,
    attachmentUrl: (attachment) => (attachment.uploadId ? deps.links.sign(attachment.uploadId, "original", EMAIL_ATTACHMENT_LINK_TTL_SECONDS).url : attachment.url),
    onDeliveryChanged: onChanged,
    logger: log.child({ channel: "email" }),
  });
  const inbound = c.inbound
    ? new SmtpInboundServer({ email: service, ...c.inbound, logger: log.child({ channel: "email" }) })
    : undefined;
  log.info({ smtp: sender.name, from: c.from, replyDomain: c.replyDomain ?? null, inbound: Boolean(inbound) }, c.replyDomain ? "email channel on" : "email channel on, without replies (set EMAIL_REPLY_DOMAIN)");
  return {
    sender,
    service,
    inbound,
    /** The planner's check: no email to a bounced address or about a conversation the user unsubscribed from. */
    allowed: async (address: string, userId: string, conversationId: string) =>
      !(await deps.emailStore.isBounced(address)) && !(await deps.emailStore.isUnsubscribed(userId, conversationId)),
  };
}

/**
 * The blob store `BLOB_STORE` names: files under `DATA_DIR/blobs`, or S3 with a client built
 * here from `Config.uploads.s3` (and destroyed by `closeBlobs`).
 */
function openBlobStore(config: Config): { blobs: BlobStore; closeBlobs: () => void } {
  const { uploads } = config;
  switch (uploads.blobStore) {
    case "fs":
      return { blobs: new FsBlobStore(path.join(config.dataDir, "blobs")), closeBlobs: () => undefined };
    case "s3": {
      const { s3 } = uploads;
      const client = new S3Client({
        region: s3.region,
        ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
        forcePathStyle: s3.forcePathStyle,
        ...(s3.accessKeyId && s3.secretAccessKey ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } : {}),
        // Checksums only where S3 requires them: the SDK's default streams uploads as aws-chunked
        // with a trailing CRC, which several S3-compatible services (s3rver, older MinIO and Ceph)
        // store framing and all. The upload's SHA-256 is in its record.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
      });
      return { blobs: new S3BlobStore({ client, bucket: s3.bucket ?? "", prefix: s3.prefix }), closeBlobs: () => client.destroy() };
    }
    default: {
      const exhaustive: never = uploads.blobStore;
      return exhaustive;
    }
  }
}

/**
 * A 10 s limit shared through Redis when the node is in cluster mode (counted locally and synced,
 * so a send costs no Redis round trip while the sender is far from the limit), else in this process.
 */
function sharedLimit(redis: RedisConnections | undefined, points: number, description: string, keyPrefix: string): RateLimit {
  return redis ? RateLimit.redisSynced(redis.commands, points, 10, description, keyPrefix) : RateLimit.inMemory(points, 10, description);
}

async function openStore(
  config: Config,
  logger: Logger,
  observers: Pick<SqliteStoreOptions, "onGroupCommit" | "onWalSync">,
): Promise<{
  store: Store;
  webhookStore: WebhookStore;
  idempotency: IdempotencyStore;
  supportStore: SupportStore;
  deliveryStore: DeliveryStore;
  emailStore: EmailStore;
  deviceStore: DeviceStore;
  uploadStore: UploadStore;
  closeStore: () => Promise<void>;
  storeName: string;
  /** The SQLite checkpoint worker's state for the metrics; absent with MongoDB. */
  walCheckpoints?: MetricsOptions["walCheckpoints"];
}> {
  if (config.mongodbUri) {
    const client = new MongoClient(config.mongodbUri, {
      writeConcern: { w: "majority", journal: true },
      serverSelectionTimeoutMS: 10_000,
    });
    try {
      await client.connect();
    } catch (err) {
      throw new Error(`MONGODB_URI: cannot connect to MongoDB (${(err as Error).message})`, { cause: err });
    }
    const store = new MongoStore(client.db());
    await store.init();
    const webhookStore = new MongoWebhookStore(client.db());
    await webhookStore.init();
    const idempotency = new MongoIdempotencyStore(client.db());
    await idempotency.init();
    const supportStore = new MongoSupportStore(client.db());
    await supportStore.init();
    const deliveryStore = new MongoDeliveryStore(client.db());
    await deliveryStore.init();
    const emailStore = new MongoEmailStore(client.db());
    await emailStore.init();
    const deviceStore = new MongoDeviceStore(client.db());
    await deviceStore.init();
    const uploadStore = new MongoUploadStore(client.db());
    await uploadStore.init();
    logger.info({ database: client.db().databaseName }, "using the MongoDB store");
    return {
      store,
      webhookStore,
      idempotency,
      supportStore,
      deliveryStore,
      emailStore,
      deviceStore,
      uploadStore,
      storeName: "mongodb",
      closeStore: async () => {
        await store.close();
        await client.close();
      },
    };
  }
  const file = path.join(config.dataDir, "switchboard.db");
  const db = openSqliteDatabase(file, config.sqlite);
  const store = new SqliteStore(db, {
    ...observers,
    backgroundCheckpoints: {
      synchronous: config.sqlite.synchronous,
      busyTimeoutMs: config.sqlite.busyTimeoutMs,
      onError: (err) => logger.warn({ err }, "WAL checkpoints moved back into commits: the checkpoint worker failed"),
    },
  });
  await store.init();
  // Same connection: the webhook tables live in the same file, under their own migrations.
  const webhookStore = new SqliteWebhookStore(db);
  await webhookStore.init();
  // Idempotency keys too, in their own table and migrations.
  const idempotency = new SqliteIdempotencyStore(db);
  await idempotency.init();
  // The support desk's tables too.
  const supportStore = new SqliteSupportStore(db);
  await supportStore.init();
  // And the offline fallback's outbox, subscriptions and consent ledger.
  const deliveryStore = new SqliteDeliveryStore(db);
  await deliveryStore.init();
  // And the email channel's ledger and threads.
  const emailStore = new SqliteEmailStore(db);
  await emailStore.init();
  // And the mobile push devices.
  const deviceStore = new SqliteDeviceStore(db);
  await deviceStore.init();
  // And the upload records.
  const uploadStore = new SqliteUploadStore(db);
  await uploadStore.init();
  logger.info({ file }, "using the embedded SQLite store");
  const checkpointer = store.checkpointer;
  return { store, webhookStore, idempotency, supportStore, deliveryStore, emailStore, deviceStore, uploadStore, storeName: "sqlite", closeStore: () => store.close(), ...(checkpointer ? { walCheckpoints: () => checkpointer } : {}) };
}
