import fs from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createAdaptorServer } from "@hono/node-server";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { MongoClient } from "mongodb";
import { Server } from "socket.io";
import { LIMITS } from "../../client-sdk/src/protocol.js";
import { ApiKeyService } from "./auth/api-key-service.js";
import { TokenService } from "./auth/token-service.js";
import type { Config } from "./config.js";
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
import { loadOrCreateSecret } from "./secret-file.js";
import { MongoStore } from "./store/mongo-store.js";
import { openSqliteDatabase, SqliteStore } from "./store/sqlite-store.js";
import type { Store } from "./store/store.js";
import { createHttpApi, type Readiness } from "./transport/http-api.js";
import { InflightTracker } from "./transport/inflight-tracker.js";
import { createOriginPolicy } from "./transport/origin-policy.js";
import { attachSocketGateway, type SwitchboardServer } from "./transport/socket-gateway.js";

/** A running (or ready to run) Switchboard node. */
export interface SwitchboardApp {
  readonly config: Config;
  readonly logger: Logger;
  /** The port actually bound (useful with `PORT=0`); 0 before `listen`. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`, for tests and local tools. */
  readonly localUrl: string;
  /** The admin API key generated on this start, if one was (it is never shown again). */
  readonly generatedAdminKey?: string;
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
}

/** Where the demo app's static files are. */
const DEMO_DIR = fileURLToPath(new URL("../../demo-app/public/", import.meta.url));

/**
 * The composition root: the only place that picks drivers and creates clients (database,
 * Socket.IO, HTTP), then hands them to the services and transports that use them.
 */
export async function createApp(config: Config, options: AppOptions = {}): Promise<SwitchboardApp> {
  const logger = options.logger ?? createLogger(config);
  fs.mkdirSync(config.dataDir, { recursive: true });

  const jwtSecret = config.jwt.secret ?? loadOrCreateSecret(path.join(config.dataDir, "jwt-secret")).secret;
  const { store, closeStore, storeName } = await openStore(config, logger);
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;

  const events = new ChatEvents((err, event) => logger.error({ err, event: event.type }, "event listener failed"));
  const tokens = new TokenService({ ...config.jwt, secret: jwtSecret });
  const apiKeys = new ApiKeyService(store);
  const users = new UserService(store);
  const conversations = new ConversationService(store, events);
  const messages = new MessageService(store, conversations, events);
  const presence = new PresenceService(
    redis ? new RedisPresenceRegistry(redis.commands, { nodeId: config.nodeId }) : new InMemoryPresenceRegistry(),
    store,
    events,
    { onError: (err, task) => logger.warn({ err, task }, "presence background task failed") },
  );
  // Redis keeps nothing on disk: after it restarts, this node's connections are registered again.
  redis?.onRecovered(() => void presence.restore().catch((err) => logger.warn({ err }, "presence restore failed")));
  await presence.start();
  const typing = new TypingService(conversations, events, config.typingTtlSeconds * 1000);
  const inflight = new InflightTracker();
  const originAllowed = createOriginPolicy(config);
  const limits = {
    socketEvents: RateLimit.inMemory(config.limits.socketEventsPer10s, 10, `${config.limits.socketEventsPer10s} events per 10 s per connection`),
    messages: RateLimit.inMemory(config.limits.messagesPer10s, 10, `${config.limits.messagesPer10s} messages per 10 s per user`),
    http: RateLimit.inMemory(config.limits.httpPer10s, 10, `${config.limits.httpPer10s} requests per 10 s per API key`),
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
  });

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
    ...(generatedKey ? { generatedAdminKey: generatedKey } : {}),
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
      state = "ready";
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
      // Before Redis and the store close: it finishes a beat under way and retires this node.
      await presence.close();
      typing.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
      httpServer.closeAllConnections();
      await redis?.close();
      await closeStore();
      logger.info("shut down");
    },
  };
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

async function openStore(config: Config, logger: Logger): Promise<{ store: Store; closeStore: () => Promise<void>; storeName: string }> {
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
    logger.info({ database: client.db().databaseName }, "using the MongoDB store");
    return {
      store,
      storeName: "mongodb",
      closeStore: async () => {
        await store.close();
        await client.close();
      },
    };
  }
  const file = path.join(config.dataDir, "switchboard.db");
  const store = new SqliteStore(openSqliteDatabase(file, config.sqlite));
  await store.init();
  logger.info({ file }, "using the embedded SQLite store");
  return { store, storeName: "sqlite", closeStore: () => store.close() };
}
