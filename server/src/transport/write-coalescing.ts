import type { Socket as EngineSocket } from "engine.io";

/**
 * One write per WebSocket connection per event-loop turn instead of one per frame.
 *
 * A group commit settles dozens of sends in one turn. Each sender's connection then gets two frames
 * (its `message:new` and its ack), and a member of several busy conversations gets more. engine.io
 * writes every frame as a syscall of its own: `writev` was 15 % of the event loop in the acks
 * benchmark. Here the first packet of a turn for a connection holds its WebSocket transport back
 * (`writable = false`, which engine.io already honours by buffering), and once the turn's
 * microtasks have run, the buffered packets go out under one cork: one `writev` for all of them. They
 * leave in the same turn and in the same order as before.
 *
 * Only WebSocket transports that are idle (`writable`) are held: long-polling and a transport that
 * is still sending are left alone.
 */
export function coalesceWrites(conn: EngineSocket): void {
  conn.on("packetCreate", () => {
    const transport = conn.transport as unknown as HeldTransport;
    if (held.has(conn) || transport.name !== "websocket" || !transport.writable) return;
    transport.writable = false;
    held.set(conn, transport);
    if (!releaseScheduled) {
      releaseScheduled = true;
      // A tick queued from a microtask runs after the microtask queue has drained, so the writes
      // of every send settled in this turn (each a chain of promise continuations) are in.
      process.nextTick(releaseAll);
    }
  });
}

/** The part of engine.io's WebSocket transport this uses. */
interface HeldTransport {
  name: string;
  writable: boolean;
  /** The `ws` WebSocket; its `_socket` is the TCP socket. */
  socket?: { _socket?: { cork(): void; uncork(): void; destroyed: boolean } };
}

/** Connections held back in this turn, with the transport that was held. */
const held = new Map<EngineSocket, HeldTransport>();
let releaseScheduled = false;

function releaseAll(): void {
  releaseScheduled = false;
  const entries = [...held];
  held.clear();
  for (const [conn, transport] of entries) {
    transport.writable = true;
    // An upgrade replaced the transport meanwhile: engine.io moved the buffer to the new one.
    if (conn.transport !== (transport as unknown)) continue;
    const tcp = transport.socket?._socket;
    const cork = tcp !== undefined && !tcp.destroyed;
    if (cork) tcp.cork();
    (conn as unknown as { flush(): void }).flush();
    if (cork) tcp.uncork();
  }
}
