import { afterEach, describe, expect, it } from "vitest";
import type { Delivery } from "../server/src/delivery/delivery-store.js";
import { api, mintToken, startServer, waitFor } from "./support/harness.js";
import { startExpoServer } from "./support/mobile-push-servers.js";

/** Expo push end to end on one node, against a local server speaking Expo's push API. */

const EXPO_TOKEN = "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start() {
  const expo = await startExpoServer();
  cleanups.push(() => expo.close());
  const server = await startServer({
    env: { EXPO_PUSH: "1", EXPO_ACCESS_TOKEN: expo.accessToken, EXPO_BASE_URL: expo.url, DELIVERY_RETRY_SCHEDULE: "200ms,3s", DELIVERY_POLL_INTERVAL_MS: "50" },
  });
  cleanups.push(() => server.close());
  const url = server.url;
  await api(url, "POST", "/v1/users", { id: "alice", name: "Alice" });
  await api(url, "POST", "/v1/users", { id: "bob", name: "Bob" });
  await api(url, "POST", "/v1/conversations", { id: "c1", type: "group", title: "Ops", memberIds: ["alice", "bob"] });
  const registered = await fetch(`${url}/v1/push/devices`, {
    method: "POST",
    headers: { authorization: `Bearer ${await mintToken("bob")}`, "content-type": "application/json" },
    body: JSON.stringify({ platform: "expo", token: EXPO_TOKEN }),
  });
  expect(registered.status).toBe(201);
  let n = 0;
  const send = async (text: string) => (await api(url, "POST", "/v1/conversations/c1/messages", { senderId: "alice", text, clientMessageId: `e-${++n}` })).body;
  const deliveries = async (messageId: string): Promise<Delivery[]> => (await api(url, "GET", `/v1/messages/${messageId}/deliveries`)).body.deliveries;
  return { expo, url, send, deliveries };
}

describe("Expo push", () => {
  it("sends an offline user one Expo push with title, body and badge, retrying a 429 after Retry-After", async () => {
    const stack = await start();
    stack.expo.script(EXPO_TOKEN, { status: 429, headers: { "retry-after": "1" } });
    const message = await stack.send("Deploy is done");
    const [delivery] = await waitFor(async () => {
      const all = await stack.deliveries(message.id);
      return all.length === 1 && all[0].status === "sent" ? all : undefined;
    }, "the Expo push to be sent");
    expect(delivery).toMatchObject({ channel: "expo", attempts: 2 });
    expect(stack.expo.requests.map((r) => r.outcome)).toEqual([429, "ok"]);
    expect(stack.expo.requests[1].at - stack.expo.requests[0].at).toBeGreaterThanOrEqual(950);
    expect(stack.expo.requests[1].message).toMatchObject({ to: EXPO_TOKEN, title: "Alice in Ops", body: "Deploy is done", badge: 1, data: { type: "message", conversationId: "c1", messageId: message.id } });
  }, 30_000);

  it("removes a device whose ticket says DeviceNotRegistered", async () => {
    const stack = await start();
    stack.expo.script(EXPO_TOKEN, { status: 200, reason: "DeviceNotRegistered" });
    const message = await stack.send("anyone?");
    const [delivery] = await waitFor(async () => {
      const all = await stack.deliveries(message.id);
      return all.length === 1 && all[0].status === "cancelled" ? all : undefined;
    }, "the delivery to end");
    expect(delivery.cancelReason).toBe("no_destination");
    const listed = await fetch(`${stack.url}/v1/push/devices`, { headers: { authorization: `Bearer ${await mintToken("bob")}` } });
    expect(((await listed.json()) as { devices: unknown[] }).devices).toEqual([]);
  }, 30_000);
});
