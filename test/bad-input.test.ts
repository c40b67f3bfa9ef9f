import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Conversation } from "../client-sdk/src/protocol.js";
import { LIMITS } from "../client-sdk/src/protocol.js";
import { api, call, connectUser, request, startServer, waitFor, type ClientSocket, type TestServer } from "./support/harness.js";

describe("bad input gets a coded error and the server keeps serving", () => {
  let server: TestServer;
  let alice: ClientSocket;
  let conversation: Conversation;

  beforeAll(async () => {
    server = await startServer({ env: { RATE_LIMIT_MESSAGES: "20", MAX_JOINED_CONVERSATIONS: "3" } });
    alice = await connectUser(server.url, "alice");
    ({ conversation } = await call<{ conversation: Conversation }>(alice, "conversation:create", { type: "group", memberIds: ["bob"] }));
  });
  afterAll(async () => {
    alice.close();
    await server.close();
  });

  it("answers payload_too_large to a text over the limit", async () => {
    const ack = await request(alice, "message:send", { conversationId: conversation.id, clientMessageId: "big", text: "x".repeat(LIMITS.textMaxLength + 1) });
    expect(ack).toMatchObject({ ok: false, error: { code: "payload_too_large" } });
  });

  it("answers invalid_argument naming the field for wrong types and missing fields", async () => {
    const cases: [string, unknown, RegExp][] = [
      ["message:send", { conversationId: conversation.id, clientMessageId: "t", text: 42 }, /text/],
      ["message:send", { conversationId: conversation.id, text: "no id" }, /clientMessageId/],
      ["message:send", null, /./],
      ["message:send", "a string", /./],
      ["conversation:join", { conversationId: conversation.id, afterSeq: -1 }, /afterSeq/],
      ["message:history", { conversationId: conversation.id, limit: 10_000 }, /limit/],
      ["conversation:create", { type: "channel", memberIds: ["bob"] }, /type/],
      ["conversation:create", { type: "group", memberIds: ["has space"] }, /memberIds/],
      ["message:send", { conversationId: conversation.id, clientMessageId: "extra", text: "hi", admin: true }, /admin|Unrecognized/i],
      ["message:send", { conversationId: conversation.id, clientMessageId: "att", text: "hi", attachments: [{ url: "javascript:alert(1)" }] }, /attachments/],
    ];
    for (const [event, payload, field] of cases) {
      const ack = await request(alice, event, payload);
      expect(ack, `${event} ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
      if (!ack.ok) expect(ack.error.message).toMatch(field);
    }
  });

  it("answers not_found for an unknown conversation and invalid_argument for an unknown event", async () => {
    expect(await request(alice, "conversation:join", { conversationId: "no-such-conversation" })).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(await request(alice, "message:send", { conversationId: "no-such-conversation", clientMessageId: "nf", text: "hi" })).toMatchObject({
      ok: false,
      error: { code: "not_found" },
    });
    expect(await request(alice, "conversation:explode", {})).toMatchObject({ ok: false, error: { code: "invalid_argument" } });
  });

  it("answers rate_limited with retryAfterMs when a user floods messages, and serves others meanwhile", async () => {
    const flooder = await connectUser(server.url, "flooder");
    const { conversation: flooded } = await call<{ conversation: Conversation }>(flooder, "conversation:create", { type: "group", memberIds: ["bob"] });
    const acks = await Promise.all(
      Array.from({ length: 30 }, (_, i) => request(flooder, "message:send", { conversationId: flooded.id, clientMessageId: `flood-${i}`, text: `flood ${i}` })),
    );
    flooder.close();
    const limited = acks.filter((a) => !a.ok);
    expect(acks.filter((a) => a.ok)).toHaveLength(20);
    expect(limited.length).toBe(10);
    expect(limited[0]).toMatchObject({ ok: false, error: { code: "rate_limited", retryAfterMs: expect.any(Number) } });
    const carol = await connectUser(server.url, "carol");
    const { conversation: other } = await call<{ conversation: Conversation }>(carol, "conversation:create", { type: "group", memberIds: ["dan"] });
    expect(await request(carol, "message:send", { conversationId: other.id, clientMessageId: "c1", text: "still served" })).toMatchObject({ ok: true });
    carol.close();
  });

  it("drops a connection that sends a frame over 64 KB and keeps serving everyone else", async () => {
    const mallory = await connectUser(server.url, "mallory");
    (mallory as unknown as { emit(e: string, p: unknown): void }).emit("message:send", { conversationId: conversation.id, clientMessageId: "huge", text: "y".repeat(LIMITS.maxFrameBytes + 1024) });
    await waitFor(() => !mallory.connected, "the oversized frame's connection to be dropped");
    mallory.close();
    expect(await request(alice, "conversation:list", {})).toMatchObject({ ok: true });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
  });

  it("limits how many conversations one connection may follow, and frees a slot on leave", async () => {
    const joiner = await connectUser(server.url, "joiner");
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await call<{ conversation: Conversation }>(joiner, "conversation:create", { type: "group", memberIds: [`peer-${i}`] })).conversation.id);
    }
    for (const id of ids.slice(0, 3)) await call(joiner, "conversation:join", { conversationId: id });
    const refused = await request(joiner, "conversation:join", { conversationId: ids[3] });
    expect(refused).toMatchObject({ ok: false, error: { code: "invalid_argument", message: expect.stringMatching(/leave one first/) } });
    // Joining one already joined again is not a new slot.
    await call(joiner, "conversation:join", { conversationId: ids[0] });
    await call(joiner, "conversation:leave", { conversationId: ids[0] });
    await call(joiner, "conversation:join", { conversationId: ids[3] });
    joiner.close();
  });

  it("answers malformed JSON on HTTP with invalid_argument and keeps serving", async () => {
    const res = await fetch(`${server.url}/v1/conversations`, {
      method: "POST",
      headers: { authorization: `Bearer sb_test_admin_key_0123456789abcdef`, "content-type": "application/json" },
      body: "{ not json",
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe("invalid_argument");
    expect((await api(server.url, "GET", `/v1/conversations/${conversation.id}`)).status).toBe(200);
  });
});
