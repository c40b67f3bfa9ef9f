import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import { io as connect, type Socket as ClientSocket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { coalesceWrites } from "../server/src/transport/write-coalescing.js";
import { waitFor } from "./support/harness.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A Socket.IO server with write coalescing, and a connected client of the given transport. */
async function start(transport: "websocket" | "polling") {
  const http = createServer();
  const io = new Server(http);
  io.engine.on("connection", coalesceWrites);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const serverSide = new Promise<import("socket.io").Socket>((resolve) => io.once("connection", resolve));
  const client: ClientSocket = connect(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, { transports: [transport], reconnection: false });
  cleanups.push(() => {
    client.close();
    return new Promise((resolve) => io.close(() => resolve(undefined)));
  });
  const socket = await serverSide;
  await waitFor(() => client.connected, "the client to connect");
  return { io, socket, client };
}

/** Counts the write syscalls Node makes on the server side of a WebSocket connection. */
function countWrites(socket: import("socket.io").Socket) {
  const tcp = (socket.conn.transport as unknown as { socket: { _socket: Record<string, (...args: unknown[]) => unknown> } }).socket._socket;
  const counter = { writes: 0 };
  for (const method of ["_write", "_writev"]) {
    const original = tcp[method]!;
    tcp[method] = function (this: unknown, ...args: unknown[]) {
      counter.writes += 1;
      return original.apply(this, args);
    };
  }
  return counter;
}

describe("one write per WebSocket connection per event-loop turn", () => {
  it("sends the frames of one turn in a single write, in order, acks included", async () => {
    const { socket, client } = await start("websocket");
    const received: string[] = [];
    client.on("note", (n: number) => received.push(`note ${n}`));
    socket.on("ask", (n: number, ack: (answer: string) => void) => {
      // An emit and an ack in the same turn, as a stored send makes them (message:new, then the ack).
      socket.emit("note", n);
      ack(`answer ${n}`);
    });
    const writes = countWrites(socket);
    // Ack callbacks (not promises, whose continuations would run after the frame's other events).
    for (let n = 0; n < 10; n++) client.emit("ask", n, (answer: string) => received.push(answer));
    await waitFor(() => received.length === 20, "the 10 notes and answers");
    expect(received).toEqual(Array.from({ length: 10 }, (_, n) => [`note ${n}`, `answer ${n}`]).flat());
    // The client's 10 asks may arrive in one read or several, so the server answers in as many
    // turns, each one write; without coalescing it is 20 writes, one per frame.
    expect(writes.writes).toBeGreaterThan(0);
    expect(writes.writes).toBeLessThan(20);

    const before = writes.writes;
    for (let n = 0; n < 50; n++) socket.emit("note", 100 + n);
    await waitFor(() => received.length === 70, "the 50 notes");
    expect(writes.writes - before).toBe(1);
    expect(received.slice(20)).toEqual(Array.from({ length: 50 }, (_, n) => `note ${100 + n}`));
  });

  it("leaves long-polling connections as they are", async () => {
    const { socket, client } = await start("polling");
    const received: number[] = [];
    client.on("note", (n: number) => received.push(n));
    for (let n = 0; n < 20; n++) socket.emit("note", n);
    await waitFor(() => received.length === 20, "the 20 notes over long-polling");
    expect(received).toEqual(Array.from({ length: 20 }, (_, n) => n));
  });
});
