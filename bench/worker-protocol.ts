import type { SerializedHistogram } from "./histogram.js";

/**
 * The IPC protocol between the benchmark orchestrator (`bench/run.ts`) and its load workers
 * (`bench/load-worker.ts`): one request, one reply, matched by `id`.
 */

/** Which server the sockets talk to; decides how receivers de-duplicate deliveries. */
export type SystemUnderTest = "switchboard" | "bare";

/** One client connection a worker opens. */
export interface SocketSpec {
  userId: string;
  /** Index of the server node it connects to (latency is "cross-node" when sender and receiver differ). */
  node: number;
  url: string;
  /** Conversations it joins once connected (`conversation:join`). */
  conversations: string[];
}

/** Orchestrator → worker. */
export type WorkerRequest =
  | {
      type: "connect";
      id: number;
      system: SystemUnderTest;
      /** HS256 secret the worker signs user tokens with. */
      jwtSecret: string;
      sockets: SocketSpec[];
      /** Connections (and their joins) in flight at once. */
      concurrency: number;
      timeoutMs: number;
    }
  | {
      /**
       * Open loop: this worker sends messages number `k = j * stride + offset` of a global schedule
       * at `startUs + k * 1e6 / ratePerSec` (the same monotonic clock in every process), from its
       * joined sockets in turn, until `total` messages exist globally. Replies once every ack is in.
       */
      type: "openLoop";
      id: number;
      startUs: number;
      ratePerSec: number;
      total: number;
      stride: number;
      offset: number;
      ackTimeoutMs: number;
      /** Characters of padding appended to each message text. */
      padding: number;
    }
  | {
      /** Closed loop: each of the first `senders` joined sockets sends, waits for its ack, repeats. */
      type: "closedLoop";
      id: number;
      senders: number;
      durationMs: number;
      ackTimeoutMs: number;
      padding: number;
    }
  | { type: "reset"; id: number }
  | { type: "count"; id: number }
  | { type: "collect"; id: number }
  | { type: "disconnect"; id: number };

/** Result of `connect`. */
export interface ConnectResult {
  connected: number;
  failed: number;
  /** Successful joins per conversation id. */
  joined: Record<string, number>;
  joinFailed: number;
  /** A few error messages, for the report. */
  errors: string[];
  ms: number;
}

/** Result of `openLoop` and `closedLoop`. */
export interface SendResult {
  sent: number;
  acked: number;
  failed: number;
  /** Acknowledged (`ok: true`) sends per conversation id. */
  ackedByConversation: Record<string, number>;
  ack: SerializedHistogram;
  errors: string[];
  /** Monotonic µs of the first send and of the last ack. */
  firstSendUs: number;
  lastAckUs: number;
}

/** Result of `count`: cheap progress polling. */
export interface CountResult {
  unique: number;
  received: number;
}

/** Result of `collect`: everything received since the last `reset`. */
export interface CollectResult {
  /** `message:new` events received, duplicates included. */
  received: number;
  /** After de-duplication (by `seq` for Switchboard, by message id for bare). */
  unique: number;
  duplicates: number;
  /** Deliveries whose sender was connected to another node than the receiver. */
  crossNode: SerializedHistogram;
  /** Deliveries within one node (the sender's own echo included). */
  sameNode: SerializedHistogram;
  /** Monotonic µs of the first and last unique delivery; 0 when none. */
  firstReceiveUs: number;
  lastReceiveUs: number;
  /** Other server events received, by name (presence:update, conversation:updated, …). */
  otherEvents: Record<string, number>;
  /** Connections that dropped while the scenario ran. */
  disconnects: number;
}

/** Worker → orchestrator. */
export type WorkerReply =
  | { type: "ready" }
  | { type: "reply"; id: number; result: unknown }
  | { type: "error"; id: number; message: string };

/** The monotonic clock every bench process shares (CLOCK_MONOTONIC), in microseconds. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
