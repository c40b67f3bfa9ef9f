import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChatClient, SwitchboardClientError, uploadFile, type Message } from "../client-sdk/src/index.js";
import { api, mintToken, startServer, waitFor, type TestServer } from "./support/harness.js";

/**
 * The SDK's upload helper in Node (where it uses fetch) against a real server: the bytes go to
 * `POST /v1/uploads`, the message goes through the handle's outbox, and refusals come back coded.
 */
describe("client SDK uploadFile against a real server", () => {
  let server: TestServer;
  const cleanups: (() => unknown)[] = [];
  /** Small enough that a test file can exceed it; large enough for the picture below. */
  const MAX_BYTES = 64 * 1024;

  beforeAll(async () => {
    server = await startServer({ env: { UPLOAD_MAX_BYTES: String(MAX_BYTES), RATE_LIMIT_UPLOADS: "5" } });
  });

  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await server?.close();
  });

  const client = (userId: string) => {
    const c = new ChatClient({ url: server.url, getToken: () => mintToken(userId) });
    cleanups.push(() => c.disconnect());
    c.connect();
    return c;
  };

  it("uploads a picture with progress up to its total size, and a send through the handle carries it to another member with a thumbnail", async () => {
    const created = await api(server.url, "POST", "/v1/conversations", { type: "direct", memberIds: ["ulla", "vic"] });
    const conversationId: string = created.body.id;
    const ulla = client("ulla");
    const vic = client("vic");
    const ullaRoom = ulla.conversation(conversationId);
    const vicRoom = vic.conversation(conversationId);
    const vicSaw: Message[] = [];
    vicRoom.on("message", (m) => vicSaw.push(m));
    await Promise.all([ullaRoom.join(), vicRoom.join()]);

    const png = await sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();
    const progress: [number, number][] = [];
    const upload = await uploadFile({
      serverUrl: server.url,
      getToken: () => mintToken("ulla"),
      file: new Uint8Array(png),
      name: "poster.png",
      onProgress: (loaded, total) => progress.push([loaded, total]),
    });
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.every(([, total]) => total === png.length)).toBe(true);
    expect(progress.at(-1)).toEqual([png.length, png.length]);
    expect(progress.map(([loaded]) => loaded)).toEqual([...progress.map(([loaded]) => loaded)].sort((a, b) => a - b));
    expect(upload).toMatchObject({ name: "poster.png", mimeType: "image/png", width: 400, height: 300 });
    expect(upload.uploadId).toMatch(/^up_[0-9a-f]{32}$/);
    expect(upload.thumbnail).toMatchObject({ width: 320, height: 240 });

    const sent = await ullaRoom.send("", { attachments: [{ uploadId: upload.uploadId }] });
    expect(sent.text).toBe("");
    expect(sent.attachments).toHaveLength(1);
    const received = await waitFor(() => vicSaw.find((m) => m.id === sent.id), "vic to receive the picture");
    const attachment = received.attachments![0]!;
    expect(attachment).toMatchObject({ uploadId: upload.uploadId, name: "poster.png", mimeType: "image/png", width: 400, height: 300 });
    // The link vic got serves exactly the stored bytes, and the thumbnail link a picture. Links are
    // on PUBLIC_URL, which for a server on port 0 names no port: the request goes to server.url.
    const onServer = (link: string) => link.replace(/^https?:\/\/[^/]+/, server.url);
    const original = Buffer.from(await (await fetch(onServer(attachment.url))).arrayBuffer());
    expect(createHash("sha256").update(original).digest("hex")).toBe(upload.sha256);
    const thumbnail = await fetch(onServer(attachment.thumbnail!.url));
    expect(thumbnail.status).toBe(200);
    expect((await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata()).width).toBe(320);
  });

  it("takes a Blob too, named by the name option", async () => {
    const upload = await uploadFile({
      serverUrl: `${server.url}/`,
      getToken: () => mintToken("ulla"),
      file: new Blob(["plain notes\n"], { type: "text/plain" }),
      name: "notes.txt",
    });
    expect(upload).toMatchObject({ name: "notes.txt", mimeType: "text/plain", size: 12 });
  });

  it("rejects a file over UPLOAD_MAX_BYTES with payload_too_large and the server's message", async () => {
    const error = await uploadFile({ serverUrl: server.url, getToken: () => mintToken("ulla"), file: new Uint8Array(randomBytes(MAX_BYTES + 1)) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwitchboardClientError);
    expect((error as SwitchboardClientError).code).toBe("payload_too_large");
    expect((error as SwitchboardClientError).message).toMatch(/UPLOAD_MAX_BYTES/);
  });

  it("rejects a type the server does not accept with invalid_argument naming the detected type", async () => {
    const error = await uploadFile({ serverUrl: server.url, getToken: () => mintToken("ulla"), file: new Uint8Array([0, 1, 2, 3, 0, 255, 254, 0]) }).catch((e: unknown) => e);
    expect((error as SwitchboardClientError).code).toBe("invalid_argument");
    expect((error as SwitchboardClientError).message).toMatch(/application\/octet-stream/);
  });

  it("rejects with rate_limited and retryAfterMs once the user's upload budget is spent", async () => {
    const upload = () => uploadFile({ serverUrl: server.url, getToken: () => mintToken("wendy"), file: new Blob(["x"]) });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await upload().then(() => "ok", (e: unknown) => e));
    expect(results.slice(0, 5)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    const error = results[5] as SwitchboardClientError;
    expect(error.code).toBe("rate_limited");
    expect(error.retryAfterMs).toBeGreaterThan(0);
  });

  it("rejects with unavailable when the server cannot be reached", async () => {
    // A port that was free a moment ago: nothing listens on it.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const error = await uploadFile({ serverUrl: `http://127.0.0.1:${port}`, getToken: () => mintToken("ulla"), file: new Blob(["x"]) }).catch((e: unknown) => e);
    expect((error as SwitchboardClientError).code).toBe("unavailable");
  });
});
