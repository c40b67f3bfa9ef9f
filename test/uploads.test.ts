import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Conversation, Message, MessageResult } from "../client-sdk/src/protocol.js";
import { GPS_IFD_POINTER, exifIfd0Tags, jpegWithGps } from "./support/exif.js";
import { api, call, connectUser, mintToken, request, startServer, TEST_ADMIN_KEY, waitFor, type ClientSocket, type TestServer } from "./support/harness.js";
import { startS3Server, S3RVER_CREDENTIALS, type TestS3Server } from "./support/s3-server.js";

/** What `POST /v1/uploads` and `GET /v1/uploads/:id` answer. */
interface Upload {
  uploadId: string;
  url: string;
  name: string;
  mimeType: string;
  size: number;
  width?: number;
  height?: number;
  thumbnail?: { url: string; width: number; height: number; mimeType: string };
  urlExpiresAt: string;
  sha256: string;
  createdAt: string;
  expiresAt?: string;
  attachedTo?: { conversationId: string; messageId: string };
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** A small but real PDF (file-type knows it by its `%PDF-` header). */
const PDF = Buffer.from(
  "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
    "trailer << /Root 1 0 R >>\n%%EOF\n",
);

/** `POST /v1/uploads` with `bytes` as the body, authenticated by `credential` (a user token or an API key). */
async function upload(
  url: string,
  credential: string,
  bytes: Uint8Array | ReadableStream<Uint8Array>,
  options: { name?: string; contentType?: string; userId?: string } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const query = new URLSearchParams();
  if (options.name !== undefined) query.set("name", options.name);
  if (options.userId !== undefined) query.set("userId", options.userId);
  const res = await fetch(`${url}/v1/uploads?${query}`, {
    method: "POST",
    headers: { authorization: `Bearer ${credential}`, "content-type": options.contentType ?? "application/octet-stream" },
    body: bytes,
    ...(bytes instanceof ReadableStream ? { duplex: "half" } : {}),
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/**
 * Downloads a signed link (no credentials), with the response's headers. Links are on PUBLIC_URL,
 * which for a test server on port 0 names no port: the request goes to `serverUrl` instead.
 */
async function download(serverUrl: string, link: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const res = await fetch(onServer(serverUrl, link), { headers });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

/** `link` with the origin of `serverUrl`. */
const onServer = (serverUrl: string, link: string) => link.replace(/^https?:\/\/[^/]+/, serverUrl);

/** Every file under `dir` (relative paths); [] when it does not exist. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** How many upload records the server's SQLite file holds (read-only, beside the running server). */
function uploadRecordCount(dataDir: string): number {
  const db = new Database(path.join(dataDir, "switchboard.db"), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM uploads").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Whether the server's SQLite file holds the upload's record. */
function uploadRecordExists(dataDir: string, uploadId: string): boolean {
  const db = new Database(path.join(dataDir, "switchboard.db"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT 1 FROM uploads WHERE id = ?").get(uploadId) !== undefined;
  } finally {
    db.close();
  }
}

/** The blob files of one upload in the fs blob store. */
const blobFilesOf = (dataDir: string, uploadId: string) => filesUnder(path.join(dataDir, "blobs", "objects", "uploads", uploadId));

/** Users, a group of them connected and joined, and helpers, against one server. */
function harness(getServer: () => TestServer) {
  const sockets: ClientSocket[] = [];
  let n = 0;
  const uid = (prefix: string) => `${prefix}-${++n}`;
  return {
    uid,
    close: () => sockets.forEach((s) => s.close()),
    async tokenOf(userId: string) {
      return mintToken(userId);
    },
    /** A group of fresh users named after `names`, each connected and joined, with the `message:new` events each receives. */
    async room(...names: string[]) {
      const server = getServer();
      const ids = names.map(uid);
      const created = await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: ids });
      expect(created.status).toBe(201);
      const conversation = created.body as Conversation;
      const members = await Promise.all(
        ids.map(async (userId) => {
          const socket = await connectUser(server.url, userId);
          sockets.push(socket);
          const received: Message[] = [];
          const updated: Message[] = [];
          socket.on("message:new", (m) => received.push(m));
          socket.on("message:updated", (m) => updated.push(m));
          await call(socket, "conversation:join", { conversationId: conversation.id });
          return { userId, socket, received, updated, token: await mintToken(userId) };
        }),
      );
      return { conversation, members };
    },
    async connect(userId: string) {
      const socket = await connectUser(getServer().url, userId);
      sockets.push(socket);
      return socket;
    },
    send(socket: ClientSocket, conversationId: string, payload: object) {
      return request<MessageResult>(socket, "message:send", { conversationId, clientMessageId: `cm-${++n}`, text: "", ...payload });
    },
  };
}

describe("uploads", () => {
  let server: TestServer;
  const h = harness(() => server);

  beforeAll(async () => {
    server = await startServer({
      env: { UPLOAD_MAX_BYTES: String(3 * 1024 * 1024), UPLOAD_DELETED_RETENTION_SECONDS: "0", UPLOAD_SWEEP_INTERVAL_MS: "50" },
    });
  });
  afterAll(async () => {
    h.close();
    await server?.close();
  });

  it("lets a member upload with their token and send it; another member receives the metadata and downloads the same bytes", async () => {
    const { conversation, members } = await h.room("alice", "bob");
    const [alice, bob] = members;
    const uploaded = await upload(server.url, alice.token, PDF, { name: "Q3 report.pdf", contentType: "application/pdf" });
    expect(uploaded.status).toBe(201);
    const file = uploaded.body as Upload;
    expect(file).toMatchObject({ uploadId: expect.stringMatching(/^up_[0-9a-f]{32}$/), name: "Q3 report.pdf", mimeType: "application/pdf", size: PDF.length, sha256: sha256(PDF) });
    expect(Date.parse(file.expiresAt!)).toBeGreaterThan(Date.now());

    const sent = await h.send(alice.socket, conversation.id, { text: "the report", attachments: [{ uploadId: file.uploadId }] });
    expect(sent.ok).toBe(true);
    await waitFor(() => bob.received.length === 1, "bob to receive message:new");
    const [attachment] = bob.received[0].attachments!;
    expect(attachment).toEqual({
      uploadId: file.uploadId,
      url: expect.stringContaining(`/v1/uploads/${file.uploadId}/content?v=original&exp=`),
      name: "Q3 report.pdf",
      mimeType: "application/pdf",
      size: PDF.length,
      urlExpiresAt: expect.any(String),
    });
    expect(Date.parse(attachment.urlExpiresAt!)).toBeGreaterThan(Date.now() + 3000 * 1000);

    // The link is on PUBLIC_URL (the test server's is localhost:<port>, the same server).
    const got = await download(server.url, attachment.url);
    expect(got.status).toBe(200);
    expect(sha256(got.bytes)).toBe(sha256(PDF));
    expect(got.headers.get("content-type")).toBe("application/pdf");
    expect(got.headers.get("content-length")).toBe(String(PDF.length));
    expect(got.headers.get("content-disposition")).toBe(`attachment; filename="Q3 report.pdf"; filename*=UTF-8''Q3%20report.pdf`);
    expect(got.headers.get("x-content-type-options")).toBe("nosniff");
    expect(got.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    expect(got.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);

    // Once attached it no longer expires.
    const after = await api(server.url, "GET", `/v1/uploads/${file.uploadId}`);
    expect(after.body.expiresAt).toBeUndefined();
    expect(after.body.attachedTo).toEqual({ conversationId: conversation.id, messageId: sent.ok ? sent.message.id : "" });
  });

  it("re-encodes an uploaded picture, gives its pixel size and a thumbnail, and serves both inline as pictures", async () => {
    const { conversation, members } = await h.room("alice", "bob");
    const [alice, bob] = members;
    const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 10, g: 120, b: 200 } } }).png().toBuffer();
    const file = (await upload(server.url, alice.token, png, { name: "sky.png", contentType: "image/png" })).body as Upload;
    expect(file).toMatchObject({ mimeType: "image/png", width: 640, height: 480, thumbnail: { width: 320, height: 240, mimeType: "image/webp" } });

    await h.send(alice.socket, conversation.id, { attachments: [{ uploadId: file.uploadId }] });
    await waitFor(() => bob.received.length === 1, "bob to receive the picture");
    const [attachment] = bob.received[0].attachments!;
    expect(attachment).toMatchObject({ width: 640, height: 480, size: file.size, thumbnail: { width: 320, height: 240, mimeType: "image/webp", url: expect.stringContaining("v=thumbnail") } });

    const original = await download(server.url, attachment.url);
    expect(original.status).toBe(200);
    expect(original.bytes.length).toBe(file.size);
    expect(sha256(original.bytes)).toBe(file.sha256);
    expect(original.headers.get("content-type")).toBe("image/png");
    expect(original.headers.get("content-disposition")).toMatch(/^inline; /);
    const opened = await sharp(original.bytes).metadata();
    expect([opened.format, opened.width, opened.height]).toEqual(["png", 640, 480]);

    const thumbnail = await download(server.url, attachment.thumbnail!.url);
    expect(thumbnail.headers.get("content-type")).toBe("image/webp");
    const thumb = await sharp(thumbnail.bytes).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(["webp", 320, 240]);
  });

  it("keeps every frame of an animated GIF, gives one frame's size, and makes a still thumbnail", async () => {
    const { members } = await h.room("alice");
    const frames = await Promise.all(
      ["#ff0000", "#00ff00", "#0000ff"].map((colour) => sharp({ create: { width: 40, height: 30, channels: 4, background: colour } }).png().toBuffer()),
    );
    const gif = await sharp(frames, { join: { animated: true } }).gif({ delay: [100, 100, 100], loop: 0 }).toBuffer();
    expect((await sharp(gif, { animated: true }).metadata()).pages).toBe(3);
    const file = (await upload(server.url, members[0].token, gif, { name: "blink.gif" })).body as Upload;
    expect(file).toMatchObject({ mimeType: "image/gif", width: 40, height: 30, thumbnail: { width: 40, height: 30, mimeType: "image/webp" } });
    const stored = await sharp((await download(server.url, file.url)).bytes, { animated: true }).metadata();
    expect([stored.format, stored.pages, stored.pageHeight, stored.delay]).toEqual(["gif", 3, 30, [100, 100, 100]]);
  });

  it("stores a JPEG carrying a GPS position without any EXIF, with its orientation applied to the pixels", async () => {
    const { members } = await h.room("alice");
    const jpeg = await jpegWithGps(400, 200);
    // The input really carries a GPS block (and a camera make), and says "rotate a quarter turn".
    expect(await exifIfd0Tags(jpeg)).toContain(GPS_IFD_POINTER);
    expect(jpeg.includes(Buffer.from("TestCam"))).toBe(true);
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);

    const file = (await upload(server.url, members[0].token, jpeg, { name: "IMG_0042.JPG", contentType: "image/jpeg" })).body as Upload;
    expect(file).toMatchObject({ mimeType: "image/jpeg", width: 200, height: 400 });
    const stored = (await download(server.url, file.url)).bytes;
    const metadata = await sharp(stored).metadata();
    expect(metadata.exif).toBeUndefined();
    expect(metadata.orientation).toBeUndefined();
    expect([metadata.width, metadata.height]).toEqual([200, 400]);
    expect(stored.includes(Buffer.from("Exif\0\0"))).toBe(false);
    expect(stored.includes(Buffer.from("TestCam"))).toBe(false);
  });

  it("serves history, joins and the HTTP API with working links, and the upload's metadata to members only", async () => {
    const { conversation, members } = await h.room("alice", "bob");
    const [alice, bob] = members;
    const file = (await upload(server.url, alice.token, PDF, { name: "a.pdf" })).body as Upload;
    await h.send(alice.socket, conversation.id, { text: "see attached", attachments: [{ uploadId: file.uploadId }] });

    const history = await call<{ messages: Message[] }>(bob.socket, "message:history", { conversationId: conversation.id });
    const joined = await call<{ messages: Message[] }>(bob.socket, "conversation:join", { conversationId: conversation.id, afterSeq: 0 });
    const http = await api(server.url, "GET", `/v1/conversations/${conversation.id}/messages`);
    const listed = await call<{ conversations: { lastMessage?: Message }[] }>(bob.socket, "conversation:list", {});
    const lastMessage = listed.conversations.find((s) => s.lastMessage?.conversationId === conversation.id)?.lastMessage;
    for (const message of [history.messages[0], joined.messages[0], (http.body.messages as Message[])[0], lastMessage!]) {
      const [attachment] = message.attachments!;
      expect(attachment.uploadId).toBe(file.uploadId);
      expect(attachment.urlExpiresAt).toEqual(expect.any(String));
      const got = await download(server.url, attachment.url);
      expect(got.status).toBe(200);
      expect(sha256(got.bytes)).toBe(file.sha256);
    }

    // The uploader and a member see it; someone outside the conversation does not.
    for (const token of [alice.token, bob.token]) {
      const res = await fetch(`${server.url}/v1/uploads/${file.uploadId}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Upload).url).toContain(file.uploadId);
    }
    const outsider = await fetch(`${server.url}/v1/uploads/${file.uploadId}`, { headers: { authorization: `Bearer ${await mintToken(h.uid("carol"))}` } });
    expect(outsider.status).toBe(403);
    expect(((await outsider.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    const unknown = await api(server.url, "GET", `/v1/uploads/up_${"0".repeat(32)}`);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, "not_found"]);
  });

  it("keeps an uploaded attachment through an edit, stored as its unsigned path, and answers it with fresh links", async () => {
    const { conversation, members } = await h.room("alice", "bob");
    const [alice, bob] = members;
    const file = (await upload(server.url, alice.token, PDF, { name: "draft.pdf" })).body as Upload;
    const sent = await h.send(alice.socket, conversation.id, { text: "draft", attachments: [{ uploadId: file.uploadId }] });
    if (!sent.ok) throw new Error(sent.error.message);
    const { message: edited } = await call<MessageResult>(alice.socket, "message:edit", {
      conversationId: conversation.id,
      messageId: sent.message.id,
      text: "final",
      // Given again, so the edit writes the attachments back: in the form they were read, with signed links.
      attachments: [{ uploadId: file.uploadId }],
    });
    expect(edited.attachments![0]).toMatchObject({ uploadId: file.uploadId, url: expect.stringContaining("sig="), urlExpiresAt: expect.any(String) });
    await waitFor(() => bob.updated.some((m) => m.id === sent.message.id), "bob to receive the edit");
    expect((await download(server.url, bob.updated[0].attachments![0].url)).status).toBe(200);

    // What the database holds is the unsigned path: a stored message never carries a link that expires.
    const db = new Database(path.join(server.dataDir, "switchboard.db"), { readonly: true });
    try {
      const row = db.prepare("SELECT attachments FROM messages WHERE id = ?").get(sent.message.id) as { attachments: string };
      expect(JSON.parse(row.attachments)).toEqual([{ uploadId: file.uploadId, url: `/v1/uploads/${file.uploadId}/content`, name: "draft.pdf", mimeType: "application/pdf", size: PDF.length }]);
    } finally {
      db.close();
    }
    // Still the message's: another message cannot take it.
    const again = await h.send(alice.socket, conversation.id, { attachments: [{ uploadId: file.uploadId }] });
    expect(again.ok ? "ok" : again.error.code).toBe("conflict");
  });

  it("refuses a tampered download link with forbidden, and serves a byte range of a good one", async () => {
    const { members } = await h.room("alice");
    const bytes = Buffer.from("A plain text file, long enough to ask for a range of it.\n");
    const file = (await upload(server.url, members[0].token, bytes, { name: "notes.txt" })).body as Upload;
    const link = new URL(file.url);
    const sig = link.searchParams.get("sig")!;
    for (const tamper of [
      (u: URL) => u.searchParams.set("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1)),
      (u: URL) => u.searchParams.set("exp", String(Number(u.searchParams.get("exp")) + 3600)),
      (u: URL) => u.searchParams.set("v", "thumbnail"),
      (u: URL) => (u.pathname = `/v1/uploads/up_${"1".repeat(32)}/content`),
    ]) {
      const forged = new URL(onServer(server.url, link.toString()));
      tamper(forged);
      const res = await fetch(forged);
      expect(res.status, forged.toString()).toBe(403);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("forbidden");
      expect(body.error.message).toMatch(/not valid/);
    }
    const ranged = await download(server.url, file.url, { range: "bytes=2-6" });
    expect(ranged.status).toBe(206);
    expect(ranged.bytes.toString()).toBe("plain");
    expect(ranged.headers.get("content-range")).toBe(`bytes 2-6/${bytes.length}`);
    expect(ranged.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const beyond = await download(server.url, file.url, { range: `bytes=${bytes.length}-` });
    expect(beyond.status).toBe(416);
    const head = await fetch(onServer(server.url, file.url), { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), head.headers.get("accept-ranges")]).toEqual([200, String(bytes.length), "bytes"]);
  });

  it("serves an HTML file named .png as inert plain text: never as HTML or a picture, nosniff, as a download", async () => {
    const { members } = await h.room("alice");
    const html = Buffer.from("<!doctype html><html><body><script>alert(document.cookie)</script></body></html>");
    const res = await upload(server.url, members[0].token, html, { name: "cute-cat.png", contentType: "image/png" });
    expect(res.status).toBe(201);
    const file = res.body as Upload;
    expect(file.mimeType).toBe("text/plain");
    expect(file.width).toBeUndefined();
    const got = await download(server.url, file.url);
    expect(got.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(got.headers.get("x-content-type-options")).toBe("nosniff");
    expect(got.headers.get("content-disposition")).toMatch(/^attachment; /);
    expect(got.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    expect(got.bytes).toEqual(html);
  });

  it("refuses SVG pictures by default, naming the detected type and the allow-list, and binary files that are not on it", async () => {
    const { members } = await h.room("alice");
    const svgs = [
      '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="5"/></svg>',
      '<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn by hand -->\n<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    ];
    for (const svg of svgs) {
      const res = await upload(server.url, members[0].token, Buffer.from(svg), { name: "logo.png", contentType: "image/png" });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_argument");
      expect(res.body.error.message).toContain("image/svg+xml");
      expect(res.body.error.message).toContain("UPLOAD_ALLOWED_TYPES");
      expect(res.body.error.message).toContain("image/jpeg");
    }
    const binary = await upload(server.url, members[0].token, Buffer.from([0x00, 0xff, 0x10, 0x80, 0x00, 0x01, 0x02]), { name: "x.bin" });
    expect(binary.status).toBe(400);
    expect(binary.body.error.message).toContain("application/octet-stream");
    const empty = await upload(server.url, members[0].token, Buffer.alloc(0), { name: "empty.txt" });
    expect([empty.status, empty.body.error.code]).toEqual([400, "invalid_argument"]);
  });

  it("answers an oversized upload with a coded 413 naming the limit, streamed or announced, and leaves nothing behind", async () => {
    const { members } = await h.room("alice");
    const blobsDir = path.join(server.dataDir, "blobs");
    const tempDir = path.join(server.dataDir, "tmp");
    const before = { blobs: filesUnder(blobsDir), temp: filesUnder(tempDir), records: uploadRecordCount(server.dataDir) };
    const limit = 3 * 1024 * 1024;

    // With Content-Length: refused before a byte is read.
    const announced = await upload(server.url, members[0].token, Buffer.alloc(limit + 1, 0x61), { name: "big.txt" });
    expect(announced.status).toBe(413);
    expect(announced.body.error.code).toBe("payload_too_large");
    expect(announced.body.error.message).toContain(String(limit));
    expect(announced.body.error.message).toContain("UPLOAD_MAX_BYTES");

    // Chunked, without a length: refused as soon as the stream passes the limit.
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > limit + 512 * 1024) return controller.close();
        sent += 64 * 1024;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x62));
      },
    });
    const streamed = await upload(server.url, members[0].token, stream, { name: "bigger.txt" });
    expect(streamed.status).toBe(413);
    expect(streamed.body.error.code).toBe("payload_too_large");

    expect(filesUnder(blobsDir)).toEqual(before.blobs);
    expect(filesUnder(tempDir)).toEqual(before.temp);
    expect(uploadRecordCount(server.dataDir)).toBe(before.records);
  });

  it("refuses to attach someone else's upload (forbidden) and one upload to a second message (conflict)", async () => {
    const { conversation, members } = await h.room("alice", "bob");
    const [alice, bob] = members;
    const file = (await upload(server.url, alice.token, PDF, { name: "mine.pdf" })).body as Upload;
    const stolen = await h.send(bob.socket, conversation.id, { text: "look", attachments: [{ uploadId: file.uploadId }] });
    expect(stolen.ok).toBe(false);
    if (!stolen.ok) {
      expect(stolen.error.code).toBe("forbidden");
      expect(stolen.error.message).toContain("attachments.0");
    }
    const first = await h.send(alice.socket, conversation.id, { text: "once", attachments: [{ uploadId: file.uploadId }] });
    expect(first.ok).toBe(true);
    const second = await h.send(alice.socket, conversation.id, { text: "twice", attachments: [{ uploadId: file.uploadId }] });
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.error.code).toBe("conflict");
    const twiceInOne = await upload(server.url, alice.token, PDF, { name: "again.pdf" });
    const doubled = await h.send(alice.socket, conversation.id, { attachments: [{ uploadId: twiceInOne.body.uploadId }, { uploadId: twiceInOne.body.uploadId }] });
    expect(doubled.ok ? "ok" : doubled.error.code).toBe("invalid_argument");
  });

  it("accepts a message with only attachments, and still refuses one with neither text nor attachments", async () => {
    const { conversation, members } = await h.room("alice", "bob");
    const [alice, bob] = members;
    const file = (await upload(server.url, alice.token, PDF, { name: "only.pdf" })).body as Upload;
    const sent = await h.send(alice.socket, conversation.id, { text: "", attachments: [{ uploadId: file.uploadId }] });
    expect(sent.ok).toBe(true);
    if (sent.ok) expect(sent.message).toMatchObject({ text: "", attachments: [{ uploadId: file.uploadId }] });
    await waitFor(() => bob.received.length === 1, "bob to receive the attachment-only message");
    const nothing = await h.send(alice.socket, conversation.id, { text: "  " });
    expect(nothing.ok ? "ok" : nothing.error.code).toBe("invalid_argument");
  });

  it("lets an API key upload, for the backend or on behalf of a user, and send with it over HTTP with empty text", async () => {
    const { conversation, members } = await h.room("alice", "bob");
    const [alice, bob] = members;
    const backendFile = (await upload(server.url, TEST_ADMIN_KEY, PDF, { name: "invoice.pdf" })).body as Upload;
    expect(backendFile.uploadId).toMatch(/^up_/);
    const sent = await api(server.url, "POST", `/v1/conversations/${conversation.id}/messages`, {
      senderId: alice.userId,
      text: "",
      attachments: [{ uploadId: backendFile.uploadId }],
    });
    expect(sent.status).toBe(201);
    expect(sent.body.attachments[0]).toMatchObject({ uploadId: backendFile.uploadId, name: "invoice.pdf", url: expect.stringContaining("sig="), urlExpiresAt: expect.any(String) });
    await waitFor(() => bob.received.some((m) => m.id === sent.body.id), "bob to receive the backend's message");
    expect(sha256((await download(server.url, sent.body.attachments[0].url)).bytes)).toBe(sha256(PDF));

    // A backend's upload is not a user's to attach.
    const other = (await upload(server.url, TEST_ADMIN_KEY, PDF, { name: "backend-only.pdf" })).body as Upload;
    const refused = await h.send(alice.socket, conversation.id, { attachments: [{ uploadId: other.uploadId }] });
    expect(refused.ok ? "ok" : refused.error.code).toBe("forbidden");

    // On behalf of alice: hers to attach.
    const forAlice = (await upload(server.url, TEST_ADMIN_KEY, PDF, { name: "for-alice.pdf", userId: alice.userId })).body as Upload;
    const hers = await h.send(alice.socket, conversation.id, { attachments: [{ uploadId: forAlice.uploadId }] });
    expect(hers.ok).toBe(true);

    // A user token cannot upload for someone else; a key without `write` cannot upload at all.
    const impersonating = await upload(server.url, alice.token, PDF, { userId: bob.userId });
    expect([impersonating.status, impersonating.body.error.code]).toEqual([403, "forbidden"]);
    const readOnly = await api(server.url, "POST", "/v1/api-keys", { name: "reader", scopes: ["read"] });
    const noWrite = await upload(server.url, readOnly.body.key, PDF);
    expect([noWrite.status, noWrite.body.error.code]).toEqual([403, "forbidden"]);
    const anonymous = await fetch(`${server.url}/v1/uploads`, { method: "POST", body: PDF });
    expect(anonymous.status).toBe(401);
  });

  it("removes a deleted message's files once the retention (0 s here) has passed", async () => {
    const { conversation, members } = await h.room("alice", "bob");
    const [alice, bob] = members;
    const png = await sharp({ create: { width: 50, height: 50, channels: 3, background: "#00aa00" } }).png().toBuffer();
    const file = (await upload(server.url, alice.token, png, { name: "dot.png" })).body as Upload;
    const sent = await h.send(alice.socket, conversation.id, { attachments: [{ uploadId: file.uploadId }] });
    if (!sent.ok) throw new Error(sent.error.message);
    expect(blobFilesOf(server.dataDir, file.uploadId)).toEqual(["original", "thumbnail"]);

    await call(alice.socket, "message:delete", { conversationId: conversation.id, messageId: sent.message.id });
    await waitFor(() => bob.updated.some((m) => m.id === sent.message.id && m.deleted), "bob to see the deletion");
    expect(bob.updated.find((m) => m.id === sent.message.id)!.attachments).toBeUndefined();
    await waitFor(() => blobFilesOf(server.dataDir, file.uploadId).length === 0 && !uploadRecordExists(server.dataDir, file.uploadId), "the sweeper to delete blobs and record");
    const gone = await api(server.url, "GET", `/v1/uploads/${file.uploadId}`);
    expect(gone.status).toBe(404);
    expect((await download(server.url, file.url)).status).toBe(404);
  });

  it("makes an MMS variant of a picture within a byte budget, and refuses one for a non-picture", async () => {
    const { members } = await h.room("alice");
    // Noise compresses badly: the variant must be recompressed and scaled down to fit.
    const noisy = await sharp({ create: { width: 1400, height: 1000, channels: 3, background: "#000000", noise: { type: "gaussian", mean: 128, sigma: 40 } } })
      .jpeg({ quality: 95 })
      .toBuffer();
    const file = (await upload(server.url, members[0].token, noisy, { name: "noise.jpg" })).body as Upload;
    expect(file.size).toBeGreaterThan(200_000);
    const size = await server.app.uploads.mmsVariant(file.uploadId, 60_000);
    expect(size).toBeLessThanOrEqual(60_000);
    const link = await server.app.uploads.signedUrl(file.uploadId, "mms", 600);
    const got = await download(server.url, link);
    expect(got.bytes.length).toBe(size);
    expect(got.headers.get("content-type")).toBe("image/jpeg");
    const jpeg = await sharp(got.bytes).metadata();
    expect(jpeg.format).toBe("jpeg");
    // Asked again within the same budget: the same variant.
    expect(await server.app.uploads.mmsVariant(file.uploadId, 60_000)).toBe(size);

    const pdf = (await upload(server.url, members[0].token, PDF, { name: "doc.pdf" })).body as Upload;
    await expect(server.app.uploads.mmsVariant(pdf.uploadId, 60_000)).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(server.app.uploads.signedUrl(pdf.uploadId, "mms", 600)).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("uploads with short lifetimes", () => {
  let server: TestServer;
  const h = harness(() => server);

  beforeAll(async () => {
    server = await startServer({
      env: {
        UPLOAD_URL_TTL_SECONDS: "1",
        UPLOAD_UNATTACHED_TTL_SECONDS: "1",
        UPLOAD_SWEEP_INTERVAL_MS: "50",
        RATE_LIMIT_UPLOADS: "5",
        UPLOAD_MAX_IMAGE_PIXELS: "10000",
      },
    });
  });
  afterAll(async () => {
    h.close();
    await server?.close();
  });

  it("refuses an expired download link with forbidden saying how to get a fresh one, and history gives a fresh one", async () => {
    const { conversation, members } = await h.room("alice", "bob");
    const [alice, bob] = members;
    const file = (await upload(server.url, alice.token, PDF, { name: "soon.pdf" })).body as Upload;
    await h.send(alice.socket, conversation.id, { text: "quick", attachments: [{ uploadId: file.uploadId }] });
    await waitFor(() => bob.received.length === 1, "bob to receive the message");
    const first = bob.received[0].attachments![0];

    const refused = await waitFor(async () => {
      const res = await fetch(onServer(server.url, first.url));
      return res.status === 403 ? ((await res.json()) as { error: { code: string; message: string } }) : undefined;
    }, "the link to expire");
    expect(refused.error.code).toBe("forbidden");
    expect(refused.error.message).toMatch(/expired at .*GET \/v1\/uploads\//);

    const history = await call<{ messages: Message[] }>(bob.socket, "message:history", { conversationId: conversation.id });
    const fresh = history.messages[0].attachments![0];
    expect(Date.parse(fresh.urlExpiresAt!)).toBeGreaterThan(Date.parse(first.urlExpiresAt!));
    const got = await download(server.url, fresh.url);
    expect(got.status).toBe(200);
    expect(sha256(got.bytes)).toBe(sha256(PDF));
  });

  it("deletes an upload that no message held within its time to live: record and bytes", async () => {
    const { members } = await h.room("alice");
    const file = (await upload(server.url, members[0].token, PDF, { name: "forgotten.pdf" })).body as Upload;
    expect(blobFilesOf(server.dataDir, file.uploadId)).toEqual(["original"]);
    await waitFor(() => blobFilesOf(server.dataDir, file.uploadId).length === 0 && !uploadRecordExists(server.dataDir, file.uploadId), "the sweeper to delete blob and record");
    const gone = await api(server.url, "GET", `/v1/uploads/${file.uploadId}`);
    expect([gone.status, gone.body.error.code]).toEqual([404, "not_found"]);
    const late = await h.send(members[0].socket, (await api(server.url, "POST", "/v1/conversations", { type: "group", memberIds: [members[0].userId] })).body.id, {
      attachments: [{ uploadId: file.uploadId }],
    });
    expect(late.ok ? "ok" : late.error.code).toBe("not_found");
  });

  it("refuses a picture of more pixels than UPLOAD_MAX_IMAGE_PIXELS, naming the limit", async () => {
    const { members } = await h.room("alice");
    const big = await sharp({ create: { width: 200, height: 200, channels: 3, background: "#123456" } }).png().toBuffer();
    const res = await upload(server.url, members[0].token, big, { name: "bomb.png" });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "invalid_argument", message: expect.stringContaining("10000 pixels") });
  });

  it("limits uploads per owner per minute with rate_limited and Retry-After", async () => {
    const token = await mintToken(h.uid("busy"));
    for (let i = 0; i < 5; i++) expect((await upload(server.url, token, PDF)).status).toBe(201);
    const limited = await upload(server.url, token, PDF);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another user's budget is their own.
    expect((await upload(server.url, await mintToken(h.uid("calm")), PDF)).status).toBe(201);
  });
});

describe("uploads kept in S3 (BLOB_STORE=s3, against s3rver)", () => {
  let s3: TestS3Server;
  let server: TestServer;
  const h = harness(() => server);

  beforeAll(async () => {
    s3 = await startS3Server("switchboard-uploads");
    server = await startServer({
      env: {
        BLOB_STORE: "s3",
        S3_BUCKET: s3.bucket,
        S3_ENDPOINT: s3.endpoint,
        S3_FORCE_PATH_STYLE: "1",
        S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        S3_PREFIX: "tenant-a/",
      },
    });
  });
  afterAll(async () => {
    h.close();
    await server?.close();
    await s3?.close();
  });

  it("stores the bytes in the bucket under the prefix and serves them back through signed links", async () => {
    const { conversation, members } = await h.room("alice", "bob");
    const [alice, bob] = members;
    const png = await sharp({ create: { width: 300, height: 100, channels: 3, background: "#abcdef" } }).png().toBuffer();
    const file = (await upload(server.url, alice.token, png, { name: "banner.png" })).body as Upload;
    await h.send(alice.socket, conversation.id, { attachments: [{ uploadId: file.uploadId }] });
    await waitFor(() => bob.received.length === 1, "bob to receive the picture");
    const [attachment] = bob.received[0].attachments!;
    const original = await download(server.url, attachment.url);
    expect(original.status).toBe(200);
    expect(sha256(original.bytes)).toBe(file.sha256);
    expect((await sharp(original.bytes).metadata()).width).toBe(300);
    expect((await download(server.url, attachment.thumbnail!.url)).headers.get("content-type")).toBe("image/webp");
    expect(fs.existsSync(path.join(server.dataDir, "blobs", "objects"))).toBe(false);

    const { S3BlobStore } = await import("../server/src/blobs/s3-blob-store.js");
    const bucket = new S3BlobStore({ client: s3.client(), bucket: s3.bucket, prefix: "" });
    expect((await bucket.list(`tenant-a/uploads/${file.uploadId}/`)).sort()).toEqual([
      `tenant-a/uploads/${file.uploadId}/original`,
      `tenant-a/uploads/${file.uploadId}/thumbnail`,
    ]);
  });
});
