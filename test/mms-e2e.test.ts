import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import type { Message } from "../client-sdk/src/protocol.js";
import type { Delivery } from "../server/src/delivery/delivery-store.js";
import type { SandboxSms } from "../server/src/delivery/delivery-store.js";
import { DestinationPolicy } from "../server/src/webhooks/destination-policy.js";
import { api, call, connectUser, startServer, TEST_ADMIN_KEY, waitFor, type TestServer } from "./support/harness.js";
import { freePort } from "./support/redis-server.js";
import { startTwilioFake, type TwilioFake } from "./support/twilio-fake.js";

/**
 * MMS end to end on one node, with real uploads (blobs on disk, sharp): pictures to an offline
 * phone user as MMS through a Twilio-compatible endpoint that fetches them, other files as links,
 * and inbound MMS whose media the server downloads from the fake's Twilio-like media resource
 * (Basic auth, then a redirect to another origin) under the SSRF guard; then the sandbox path.
 */

const BOB_PHONE = "+15550002222";
const OUR_NUMBER = "+15550001000";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A large photo-like JPEG: noise does not compress, so 3000x2000 is several MB. */
async function bigPhoto(): Promise<Buffer> {
  return sharp(randomBytes(3000 * 2000 * 3), { raw: { width: 3000, height: 2000, channels: 3 } })
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** A small picture of one colour. */
function smallPicture(format: "png" | "jpeg", width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .toFormat(format)
    .toBuffer();
}

/** A minimal, valid one-page PDF. */
const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n" +
    "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
);

/** The production rule (private addresses refused) except for the given origins: the test's Twilio stand-in. */
function allowOnly(...origins: string[]) {
  const strict = new DestinationPolicy({ allowPrivate: false });
  return { check: (url: string) => (origins.includes(new URL(url).origin) ? Promise.resolve({ verdict: "allowed" as const }) : strict.check(url)) };
}

interface Stack {
  server: TestServer;
  url: string;
  /** Uploads `bytes` as `userId`'s file (an API key uploading on the user's behalf). */
  upload(userId: string, bytes: Buffer, name: string, type: string): Promise<{ uploadId: string; mimeType: string; url: string }>;
  /** Sends as alice into c1 over HTTP. */
  send(text: string, attachments: unknown[]): Promise<Message>;
  deliveries(messageId: string): Promise<Delivery[]>;
  history(): Promise<Message[]>;
}

let counter = 0;
async function setUp(server: TestServer): Promise<Stack> {
  const { url } = server;
  const ok = (res: { status: number; body: unknown }, what: string) => {
    if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as any;
  };
  ok(await api(url, "POST", "/v1/users", { id: "alice", name: "Alice", role: "agent" }), "alice");
  ok(await api(url, "POST", "/v1/users", { id: "bob", name: "Bob", phone: BOB_PHONE }), "bob");
  ok(await api(url, "POST", "/v1/conversations", { id: "c1", type: "group", title: "Ops", memberIds: ["alice", "bob"] }), "c1");
  ok(await api(url, "POST", "/v1/users/bob/sms-consent", { granted: true, note: "test signup form" }), "consent");
  return {
    server,
    url,
    async upload(userId, bytes, name, type) {
      const res = await fetch(`${url}/v1/uploads?userId=${userId}&name=${encodeURIComponent(name)}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, "content-type": type },
        body: new Uint8Array(bytes),
      });
      const body = (await res.json()) as any;
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(body)}`);
      return body;
    },
    async send(text, attachments) {
      return ok(
        await api(url, "POST", "/v1/conversations/c1/messages", { senderId: "alice", text, clientMessageId: `mms-${++counter}`, ...(attachments.length ? { attachments } : {}) }),
        "send",
      );
    },
    async deliveries(messageId) {
      return ok(await api(url, "GET", `/v1/messages/${messageId}/deliveries`), "deliveries").deliveries;
    },
    async history() {
      return ok(await api(url, "GET", "/v1/conversations/c1/messages"), "history").messages;
    },
  };
}

/** A server with the Twilio driver pointed at the fake; inbound media may come from the fake's origins only. */
async function startTwilioStack(): Promise<Stack & { twilio: TwilioFake }> {
  const twilio = await startTwilioFake();
  cleanups.push(() => twilio.close());
  // PUBLIC_URL is what Twilio signs webhooks for, and what media URLs are signed on.
  const port = await freePort();
  const server = await startServer({
    env: {
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      SMS_PROVIDER: "twilio",
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      SMS_FROM: OUR_NUMBER,
      SMS_DELAY_SECONDS: "0",
      SMS_PER_NUMBER_PER_SECOND: "50",
      DELIVERY_POLL_INTERVAL_MS: "50",
      DELIVERY_RETRY_SCHEDULE: "150ms,300ms",
    },
    appOptions: { inboundMediaDestinations: allowOnly(twilio.url, twilio.cdnUrl) },
  });
  cleanups.push(() => server.close());
  return { ...(await setUp(server)), twilio };
}

/** The SMS delivery to bob of `messageId` once `check` holds. */
function waitForSms(stack: Stack, messageId: string, check: (d: Delivery) => boolean, what: string): Promise<Delivery> {
  return waitFor(async () => (await stack.deliveries(messageId)).find((d) => d.channel === "sms" && check(d)), what, 15_000, 50);
}

describe("outbound MMS", () => {
  it("sends a big photo as an MMS whose MediaUrl serves a JPEG within 750 kB, and the timeline counts the pictures", async () => {
    const stack = await startTwilioStack();
    const photo = await bigPhoto();
    expect(photo.length).toBeGreaterThan(3_000_000);
    const first = await stack.upload("alice", photo, "harbour.jpg", "image/jpeg");
    const second = await stack.upload("alice", await smallPicture("png", 640, 480), "map.png", "image/png");
    const message = await stack.send("", [{ uploadId: first.uploadId }, { uploadId: second.uploadId }]);

    const sent = await waitFor(() => stack.twilio.sends[0], "the MMS to reach the provider", 15_000);
    expect(sent).toMatchObject({ to: BOB_PHONE, from: OUR_NUMBER, body: "Alice in Ops sent 2 photos\nReply to answer." });
    expect(sent.mediaUrls).toHaveLength(2);
    expect(sent.mediaUrls.every((u) => u.startsWith(`${stack.url}/v1/uploads/`))).toBe(true);
    const fetched = await waitFor(() => (sent.fetchedMedia.length === 2 ? sent.fetchedMedia : undefined), "the provider to fetch the pictures", 15_000);
    for (const media of fetched) {
      expect(media.status).toBe(200);
      expect(media.contentType).toBe("image/jpeg");
      expect(media.bytes.length).toBeLessThanOrEqual(750_000);
      const decoded = await sharp(media.bytes).metadata();
      expect(decoded.format).toBe("jpeg");
      expect(decoded.width).toBeGreaterThan(0);
    }
    // The photo kept its shape (3:2) while it shrank to fit.
    const big = await sharp(fetched[0].bytes).metadata();
    expect(Math.abs(big.width! / big.height! - 1.5)).toBeLessThan(0.01);

    const delivery = await waitForSms(stack, message.id, (d) => d.status === "sent", "the MMS delivery to be sent");
    expect(delivery).toMatchObject({ providerMessageId: sent.sid, mediaCount: 2, encoding: "GSM-7", segments: 1 });
    expect(delivery.events.at(-1)?.detail).toContain("MMS with 2 pictures");
    // Status callbacks work for an MMS as for a text.
    expect((await stack.twilio.sendStatusCallback(sent.sid, "delivered", `${stack.url}/v1/sms/status`)).status).toBe(204);
    const delivered = await waitForSms(stack, message.id, (d) => d.status === "delivered", "the delivered receipt");
    expect(delivered.mediaCount).toBe(2);
    expect(stack.twilio.sends).toHaveLength(1);
  }, 60_000);

  it("sends a file that is not a picture, and a plain URL attachment, as links in the text", async () => {
    const stack = await startTwilioStack();
    const pdf = await stack.upload("alice", PDF, "report.pdf", "application/pdf");
    expect(pdf.mimeType).toBe("application/pdf");
    const message = await stack.send("Here is the report", [{ uploadId: pdf.uploadId }, { url: "https://files.example.com/spec.txt", name: "spec.txt" }]);

    const sent = await waitFor(() => stack.twilio.sends[0], "the SMS to reach the provider", 15_000);
    expect(sent.mediaUrls).toEqual([]);
    const link = /^report\.pdf: (\S+)$/m.exec(sent.body)?.[1];
    expect(link, sent.body).toBeDefined();
    expect(sent.body).toContain("\nspec.txt: https://files.example.com/spec.txt\n");
    expect(sent.body.startsWith("Alice in Ops: Here is the report\n")).toBe(true);
    expect(sent.body.endsWith("\nReply to answer.")).toBe(true);
    // The link is a signed download of the original, good for the phone user without credentials.
    const download = await fetch(link!);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(PDF)).toBe(true);
    const delivery = await waitForSms(stack, message.id, (d) => d.status === "sent", "the SMS delivery to be sent");
    expect(delivery).not.toHaveProperty("mediaCount");
    expect(delivery.segments).toBe(sent.numSegments);
  }, 60_000);
});

describe("inbound MMS", () => {
  /** An outbound text first: it threads bob's phone to c1, so replies find the conversation. */
  async function threaded(stack: Stack & { twilio: TwilioFake }) {
    await stack.send("Can you send a picture of the damage?", []);
    return waitFor(() => stack.twilio.sends[0], "the first SMS", 15_000);
  }

  it("posts two pictures without text as ONE message, live and once in history, also when Twilio repeats the webhook", async () => {
    const stack = await startTwilioStack();
    const sms = await threaded(stack);
    const alice = await connectUser(stack.url, "alice");
    cleanups.push(() => alice.close());
    await call(alice, "conversation:join", { conversationId: "c1" });
    const live: Message[] = [];
    alice.on("message:new", (m: Message) => live.push(m));

    const media = [stack.twilio.serveMedia(await smallPicture("jpeg", 800, 600), "image/jpeg"), stack.twilio.serveMedia(await smallPicture("png", 300, 400), "image/png")];
    const inboundUrl = `${stack.url}/v1/sms/inbound`;
    const params = stack.twilio.inboundParams({ From: BOB_PHONE, To: sms.from, Body: "", media });
    const signed = stack.twilio.signedRequest(inboundUrl, params);
    const post = () => fetch(inboundUrl, { method: "POST", headers: signed.headers, body: signed.body });
    const answer = await post();
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response/>');

    const message = await waitFor(() => live.find((m) => m.senderId === "bob"), "the MMS to reach alice live");
    expect(message).toMatchObject({ text: "", clientMessageId: `sms:${params.MessageSid}` });
    expect(message.attachments?.map((a) => [a.mimeType, a.width, a.height])).toEqual([
      ["image/jpeg", 800, 600],
      ["image/png", 300, 400],
    ]);
    expect(message.attachments?.every((a) => a.uploadId?.startsWith("up_") && a.thumbnail)).toBe(true);
    // Each file once from Twilio's API, with its credentials, and once from the CDN it redirects to, without.
    const requests = stack.twilio.mediaRequests;
    expect(requests.filter((r) => r.origin === "api").map((r) => Boolean(r.authorization))).toEqual([true, true]);
    expect(requests.filter((r) => r.origin === "cdn").map((r) => Boolean(r.authorization))).toEqual([false, false]);

    // The same webhook again (Twilio retries on a timeout): nothing new, nothing downloaded again.
    expect((await post()).status).toBe(200);
    const history = await stack.history();
    expect(history.filter((m) => m.senderId === "bob")).toHaveLength(1);
    expect(history.find((m) => m.senderId === "bob")?.attachments).toHaveLength(2);
    expect(stack.twilio.mediaRequests).toHaveLength(4);
    // The pictures are the phone user's uploads: the attachment links serve them.
    const picture = await fetch(message.attachments![1].url);
    expect(picture.status).toBe(200);
    expect((await sharp(Buffer.from(await picture.arrayBuffer())).metadata()).format).toBe("png");
  }, 60_000);

  it("never fetches a MediaUrl at a private address: the rest of the message posts, and a picture-only one posts nothing", async () => {
    const stack = await startTwilioStack();
    const sms = await threaded(stack);
    // A server on the machine itself, standing in for an internal service or a metadata endpoint.
    const hits: string[] = [];
    const inside = http.createServer((req, res) => {
      hits.push(req.url ?? "");
      res.writeHead(200, { "content-type": "image/png" });
      res.end("not a picture");
    });
    await new Promise<void>((resolve) => inside.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise<void>((resolve) => inside.close(() => resolve())));
    const privateMedia = { url: `http://127.0.0.1:${(inside.address() as AddressInfo).port}/latest/meta-data`, contentType: "image/png" };
    const inboundUrl = `${stack.url}/v1/sms/inbound`;

    const good = stack.twilio.serveMedia(await smallPicture("jpeg", 320, 240), "image/jpeg");
    const mixed = await stack.twilio.sendInbound(inboundUrl, { From: BOB_PHONE, To: sms.from, Body: "one of two", media: [privateMedia, good] });
    expect(mixed.status).toBe(200);
    const posted = await waitFor(async () => (await stack.history()).find((m) => m.senderId === "bob"), "the text with its one good picture");
    expect(posted.text).toBe("one of two");
    expect(posted.attachments?.map((a) => a.mimeType)).toEqual(["image/jpeg"]);

    const before = await stack.history();
    const only = await stack.twilio.sendInbound(inboundUrl, { From: BOB_PHONE, To: sms.from, Body: "", media: [privateMedia] });
    // The webhook is answered once the text is handled: nothing was left to post.
    expect(only.status).toBe(200);
    expect(await stack.history()).toEqual(before);
    expect(hits).toEqual([]);
  }, 60_000);
});

describe("MMS in the SMS sandbox", () => {
  it("lists an outbound MMS with its media URLs, and posts a picture sent as the phone user", async () => {
    // The media URLs are signed on PUBLIC_URL, so the port is chosen before the server starts.
    const port = await freePort();
    const server = await startServer({ env: { PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, SMS_DELAY_SECONDS: "0", DELIVERY_POLL_INTERVAL_MS: "50" } });
    cleanups.push(() => server.close());
    const stack = await setUp(server);
    const photo = await stack.upload("alice", await smallPicture("jpeg", 1200, 900), "dent.jpg", "image/jpeg");
    const message = await stack.send("the dent", [{ uploadId: photo.uploadId }]);

    const listed = await waitFor(
      async () => ((await api(stack.url, "GET", `/v1/sandbox/sms?phone=${encodeURIComponent(BOB_PHONE)}`)).body.texts as SandboxSms[]).find((t) => t.direction === "outbound"),
      "the MMS on the sandbox list",
      15_000,
    );
    expect(listed.body).toBe("Alice in Ops: the dent\nReply to answer.");
    expect(listed.sid).toMatch(/^MM/);
    expect(listed.mediaUrls).toHaveLength(1);
    const picture = await fetch(listed.mediaUrls![0]);
    expect(picture.headers.get("content-type")).toBe("image/jpeg");
    expect((await picture.arrayBuffer()).byteLength).toBeLessThanOrEqual(750_000);
    await waitForSms(stack, message.id, (d) => d.status === "delivered" && d.mediaCount === 1, "the sandbox to report the MMS delivered");

    const png = await smallPicture("png", 200, 150);
    const answer = await api(stack.url, "POST", "/v1/sandbox/sms/inbound", {
      from: BOB_PHONE,
      to: listed.from,
      body: "",
      media: [{ contentType: "image/png", name: "reply.png", data: png.toString("base64") }],
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ sid: expect.stringMatching(/^MM/), messageId: expect.stringMatching(/^m_/) });
    const reply = (await stack.history()).find((m) => m.id === answer.body.messageId);
    expect(reply).toMatchObject({ senderId: "bob", text: "" });
    expect(reply?.attachments?.map((a) => [a.mimeType, a.width, a.height, a.name])).toEqual([["image/png", 200, 150, "reply.png"]]);
    const texts = (await api(stack.url, "GET", "/v1/sandbox/sms")).body.texts as SandboxSms[];
    expect(texts.at(-1)).toMatchObject({ direction: "inbound", sid: answer.body.sid, mediaUrls: [expect.stringContaining(`/v1/uploads/${reply!.attachments![0].uploadId}/`)] });

    // Refused before anything is stored: neither words nor pictures, or a file over the limit.
    expect((await api(stack.url, "POST", "/v1/sandbox/sms/inbound", { from: BOB_PHONE, to: listed.from, body: " " })).status).toBe(400);
    const bad = await api(stack.url, "POST", "/v1/sandbox/sms/inbound", { from: BOB_PHONE, to: listed.from, media: [{ data: "not base64!" }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("media");
  }, 60_000);
});
