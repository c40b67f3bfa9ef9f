import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Attachment } from "../client-sdk/src/protocol.js";
import { SwitchboardError } from "../server/src/core/errors.js";
import { InboundMediaFetcher } from "../server/src/delivery/sms/inbound-media-fetcher.js";
import { MMS_MAX_MEDIA, outboundMedia, type MmsMedia } from "../server/src/delivery/sms/mms-media.js";
import { smsEncoding } from "../server/src/delivery/sms/sms-encoding.js";
import { MAX_NOTIFICATION_SEGMENTS, SmsService } from "../server/src/delivery/sms/sms-service.js";
import { parseTwilioWebhook, TwilioSmsGateway } from "../server/src/delivery/sms/twilio-sms-gateway.js";
import { DestinationPolicy } from "../server/src/webhooks/destination-policy.js";
import { waitFor } from "./support/harness.js";
import { startTwilioFake, type TwilioFake } from "./support/twilio-fake.js";

/**
 * MMS pieces that need no upload service: Twilio's MMS fields both ways, the media fetcher's
 * rules (redirects, credentials, SSRF, size, time), the rule that decides how attachments travel
 * and the wording of texts that carry files. End-to-end MMS runs in `mms-e2e.test.ts`.
 */

const PHONE = "+14155550100";
const N1 = "+15005550006";

/** A local HTTP server whose handler the test writes; counts requests per path. */
async function startServer(handler: http.RequestListener) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? "");
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The production rule (private addresses refused) except for the given origins: a test's own servers. */
function allowOnly(...origins: string[]) {
  const strict = new DestinationPolicy({ allowPrivate: false });
  return { check: (url: string) => (origins.includes(new URL(url).origin) ? Promise.resolve({ verdict: "allowed" as const }) : strict.check(url)) };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("Twilio's MMS fields", () => {
  let fake: TwilioFake;
  beforeAll(async () => {
    fake = await startTwilioFake();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it("reads NumMedia, MediaUrlN and MediaContentTypeN of an inbound MMS, with or without a body", () => {
    const a = fake.serveMedia(Buffer.from("a"), "image/jpeg");
    const b = fake.serveMedia(Buffer.from("b"), "image/png");
    const params = fake.inboundParams({ From: PHONE, To: N1, Body: "", media: [a, b] });
    expect(params.MessageSid).toMatch(/^MM[0-9a-f]{32}$/);
    expect(parseTwilioWebhook(params)).toEqual({
      kind: "inbound",
      providerMessageId: params.MessageSid,
      from: PHONE,
      to: N1,
      body: "",
      media: [
        { url: a.url, contentType: "image/jpeg" },
        { url: b.url, contentType: "image/png" },
      ],
    });
  });

  it("reads at most ten media and skips missing indexes", () => {
    const params: Record<string, string> = { MessageSid: "MM1", SmsStatus: "received", From: PHONE, To: N1, Body: "", NumMedia: "12" };
    for (let i = 0; i < 12; i++) if (i !== 3) params[`MediaUrl${i}`] = `https://api.twilio.com/m/${i}`;
    const parsed = parseTwilioWebhook(params);
    expect(parsed?.kind === "inbound" && parsed.media.map((m) => m.url)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9].map((i) => `https://api.twilio.com/m/${i}`));
    expect(parseTwilioWebhook({ ...params, NumMedia: "lots" })).toMatchObject({ media: [] });
  });

  it("sends each picture as a repeated MediaUrl field, and the provider fetches them", async () => {
    const pictures = await startServer((req, res) => {
      res.writeHead(200, { "content-type": "image/jpeg" });
      res.end(Buffer.from(`jpeg of ${req.url}`));
    });
    cleanups.push(pictures.close);
    const gateway = new TwilioSmsGateway({ accountSid: fake.accountSid, authToken: fake.authToken, apiBaseUrl: fake.url, timeoutMs: 5000 });
    const mediaUrls = [`${pictures.url}/one.jpg?sig=1`, `${pictures.url}/two.jpg?sig=2`];
    const result = await gateway.send({ to: PHONE, from: N1, body: "Ana sent 2 photos\nReply to answer.", mediaUrls, statusCallbackUrl: "https://chat.example.com/v1/sms/status" });
    expect(result).toMatchObject({ kind: "accepted", statusCode: 201 });
    const send = fake.sends.at(-1)!;
    expect(send.mediaUrls).toEqual(mediaUrls);
    expect(result.kind === "accepted" && result.providerMessageId).toMatch(/^MM/);
    const fetched = await waitFor(() => (send.fetchedMedia.length === 2 ? send.fetchedMedia : undefined), "the provider to fetch both pictures");
    expect(fetched.map((m) => [m.status, m.bytes.toString()])).toEqual([
      [200, "jpeg of /one.jpg?sig=1"],
      [200, "jpeg of /two.jpg?sig=2"],
    ]);
  });
});

describe("InboundMediaFetcher", () => {
  let fake: TwilioFake;
  beforeAll(async () => {
    fake = await startTwilioFake();
  });
  afterAll(async () => {
    await fake?.close();
  });
  const fetcher = (options: Partial<ConstructorParameters<typeof InboundMediaFetcher>[0]> = {}) =>
    new InboundMediaFetcher({
      destinations: allowOnly(fake.url, fake.cdnUrl),
      maxBytes: 1_000_000,
      timeoutMs: 5000,
      credentials: { origin: fake.url, username: fake.accountSid, password: fake.authToken },
      ...options,
    });

  it("follows Twilio's redirect to its CDN, with the account's credentials on Twilio's origin only", async () => {
    const media = fake.serveMedia(Buffer.from("a picture"), "image/jpeg");
    const result = await fetcher().fetch(media.url);
    expect(result).toEqual({ kind: "fetched", bytes: Buffer.from("a picture"), contentType: "image/jpeg" });
    const requests = fake.mediaRequests.slice(-2);
    expect(requests.map((r) => r.origin)).toEqual(["api", "cdn"]);
    expect(requests[0].authorization).toBe(`Basic ${Buffer.from(`${fake.accountSid}:${fake.authToken}`).toString("base64")}`);
    expect(requests[1]).not.toHaveProperty("authorization");
  });

  it("fails without credentials where the provider requires them", async () => {
    const media = fake.serveMedia(Buffer.from("a picture"), "image/jpeg");
    const anonymous = new InboundMediaFetcher({ destinations: allowOnly(fake.url, fake.cdnUrl), maxBytes: 1_000_000, timeoutMs: 5000 });
    const result = await anonymous.fetch(media.url);
    expect(result).toEqual({ kind: "failed", reason: expect.stringContaining("answered 401") });
  });

  it("never requests a private address when private destinations are not allowed", async () => {
    const inside = await startServer((_req, res) => res.end("secret"));
    cleanups.push(inside.close);
    const result = await fetcher({ destinations: new DestinationPolicy({ allowPrivate: false }) }).fetch(`${inside.url}/latest/meta-data`);
    expect(result).toEqual({ kind: "refused", reason: expect.stringContaining("private or reserved address") });
    expect(inside.hits).toEqual([]);
  });

  it("checks every redirect hop: an allowed host that redirects to a private one gets nothing fetched from it", async () => {
    const inside = await startServer((_req, res) => res.end("secret"));
    cleanups.push(inside.close);
    const outside = await startServer((_req, res) => {
      res.writeHead(302, { location: `${inside.url}/admin` });
      res.end();
    });
    cleanups.push(outside.close);
    const result = await fetcher({ destinations: allowOnly(outside.url) }).fetch(`${outside.url}/picture.jpg`);
    expect(result).toEqual({ kind: "refused", reason: expect.stringContaining("private or reserved address") });
    expect(outside.hits).toEqual(["/picture.jpg"]);
    expect(inside.hits).toEqual([]);
  });

  it("gives up after the redirect limit", async () => {
    const loop = await startServer((req, res) => {
      res.writeHead(307, { location: `/hop${Number(/\d+/.exec(req.url ?? "")?.[0] ?? 0) + 1}` });
      res.end();
    });
    cleanups.push(loop.close);
    const result = await fetcher({ destinations: allowOnly(loop.url), maxRedirects: 3 }).fetch(`${loop.url}/hop0`);
    expect(result).toEqual({ kind: "failed", reason: "more than 3 redirects" });
    expect(loop.hits).toEqual(["/hop0", "/hop1", "/hop2", "/hop3"]);
  });

  it("refuses a file larger than the cap, by its Content-Length or while streaming one without it", async () => {
    const big = await startServer((req, res) => {
      if (req.url === "/declared") {
        res.writeHead(200, { "content-type": "image/jpeg", "content-length": "2000" });
        res.end(Buffer.alloc(2000));
        return;
      }
      // Chunked, no length: 64 kB pieces until the client goes away.
      res.writeHead(200, { "content-type": "image/jpeg" });
      const piece = Buffer.alloc(65_536);
      const write = () => {
        while (!res.destroyed && res.write(piece));
        if (!res.destroyed) res.once("drain", write);
      };
      write();
    });
    cleanups.push(big.close);
    const capped = fetcher({ destinations: allowOnly(big.url), maxBytes: 1000 });
    expect(await capped.fetch(`${big.url}/declared`)).toEqual({ kind: "refused", reason: expect.stringContaining("2000 bytes, more than MMS_INBOUND_MAX_BYTES (1000)") });
    const streaming = fetcher({ destinations: allowOnly(big.url), maxBytes: 200_000 });
    expect(await streaming.fetch(`${big.url}/endless`)).toEqual({ kind: "refused", reason: expect.stringContaining("larger than MMS_INBOUND_MAX_BYTES (200000 bytes)") });
  });

  it("fails a source that does not answer in time, and one that answers an error", async () => {
    const slow = await startServer((req, res) => {
      if (req.url === "/gone") {
        res.writeHead(404);
        res.end();
      }
      // Otherwise never answers.
    });
    cleanups.push(slow.close);
    const impatient = fetcher({ destinations: allowOnly(slow.url), timeoutMs: 200 });
    expect(await impatient.fetch(`${slow.url}/stall`)).toEqual({ kind: "failed", reason: expect.stringContaining("within 200 ms") });
    expect(await impatient.fetch(`${slow.url}/gone`)).toEqual({ kind: "failed", reason: expect.stringContaining("answered 404") });
  });

  it("refuses URLs that are not http(s) or carry credentials", async () => {
    expect(await fetcher().fetch("file:///etc/passwd")).toMatchObject({ kind: "refused" });
    expect(await fetcher().fetch(`${fake.url.replace("http://", "http://user:pw@")}/x`)).toMatchObject({ kind: "refused", reason: expect.stringContaining("credentials") });
    expect(await fetcher().fetch("not a url")).toMatchObject({ kind: "refused" });
  });
});

/** An {@link MmsMedia} over a fixed table of uploads, for the rule's cases. */
function tableMedia(uploads: Record<string, "ok" | "gone" | "undecodable" | "down">): MmsMedia {
  const outcome = (id: string) => {
    const state = uploads[id];
    if (state === "gone") throw new SwitchboardError("not_found", `upload ${id} does not exist`);
    if (state === "down") throw new SwitchboardError("unavailable", "the blob store does not answer");
    return state;
  };
  return {
    storeInbound: () => Promise.reject(new Error("not used")),
    mmsUrl: async (id) => {
      if (outcome(id) === "undecodable") throw new SwitchboardError("invalid_argument", `upload ${id} cannot be decoded as an image`);
      return `https://chat.example.com/v1/uploads/${id}/mms?sig=x`;
    },
    linkUrl: async (id) => {
      outcome(id);
      return `https://chat.example.com/v1/uploads/${id}?sig=y`;
    },
  };
}

describe("outboundMedia", () => {
  const upload = (id: string, mimeType: string, name?: string): Attachment => ({ url: `https://chat.example.com/v1/uploads/${id}?old`, uploadId: id, mimeType, ...(name ? { name } : {}) });

  it("sends uploaded pictures as MMS media and every other file, and plain URLs, as links, in order", async () => {
    const media = tableMedia({ up_a: "ok", up_b: "ok", up_pdf: "ok" });
    const result = await outboundMedia(
      [upload("up_a", "image/jpeg"), upload("up_pdf", "application/pdf", "report.pdf"), { url: "https://cdn.example.com/x.png", mimeType: "image/png", name: "x.png" }, upload("up_b", "image/heic")],
      media,
    );
    expect(result).toEqual({
      mediaUrls: ["https://chat.example.com/v1/uploads/up_a/mms?sig=x", "https://chat.example.com/v1/uploads/up_b/mms?sig=x"],
      links: [
        { name: "report.pdf", url: "https://chat.example.com/v1/uploads/up_pdf?sig=y" },
        { name: "x.png", url: "https://cdn.example.com/x.png" },
      ],
      missing: 0,
    });
  });

  it("sends pictures past Twilio's ten as links", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `up_${i}`);
    const result = await outboundMedia(
      ids.map((id) => upload(id, "image/png")),
      tableMedia(Object.fromEntries(ids.map((id) => [id, "ok" as const]))),
    );
    expect(result.mediaUrls).toHaveLength(MMS_MAX_MEDIA);
    expect(result.links.map((l) => l.url)).toEqual(["https://chat.example.com/v1/uploads/up_10?sig=y", "https://chat.example.com/v1/uploads/up_11?sig=y"]);
  });

  it("sends a picture it cannot recompress as a link, counts a deleted upload as missing, and throws when storage is down", async () => {
    const problems: string[] = [];
    const result = await outboundMedia([upload("up_odd", "image/avif"), upload("up_gone", "image/jpeg")], tableMedia({ up_odd: "undecodable", up_gone: "gone" }), (a, what) =>
      problems.push(`${a.uploadId}: ${what}`),
    );
    expect(result).toEqual({ mediaUrls: [], links: [{ url: "https://chat.example.com/v1/uploads/up_odd?sig=y" }], missing: 1 });
    expect(problems).toEqual(["up_odd: sent_as_link", "up_gone: missing"]);
    await expect(outboundMedia([upload("up_c", "image/jpeg")], tableMedia({ up_c: "down" }))).rejects.toMatchObject({ code: "unavailable" });
  });

  it("counts uploads as missing when uploads are not enabled", async () => {
    expect(await outboundMedia([upload("up_a", "image/jpeg"), { url: "https://x.example/a.pdf" }], undefined)).toEqual({ mediaUrls: [], links: [{ url: "https://x.example/a.pdf" }], missing: 1 });
  });
});

describe("SmsService.composeBody with files", () => {
  // composeBody reads nothing from its dependencies.
  const sms = new SmsService({} as ConstructorParameters<typeof SmsService>[0]);
  const url = (n: number) => `https://chat.example.com/v1/uploads/up_${String(n).repeat(32).slice(0, 32)}/original?exp=1767225600&sig=${"A".repeat(43)}`;

  it("says who sent pictures when there are no words", () => {
    expect(sms.composeBody({ senderName: "Ana", text: "", messageCount: 1, pictures: 1 })).toBe("Ana sent a photo\nReply to answer.");
    expect(sms.composeBody({ senderName: "Ana", conversationTitle: "Ops", text: " ", messageCount: 3, pictures: 2 })).toBe("Ana in Ops sent 2 photos (+2 more)\nReply to answer.");
    expect(sms.composeBody({ senderName: "Ana", text: "", messageCount: 1, pictures: 1, links: [{ name: "a.pdf", url: url(1) }, { url: url(2) }] })).toBe(
      `Ana sent a photo and 2 files\na.pdf: ${url(1)}\n${url(2)}\nReply to answer.`,
    );
    // Nothing to describe (every attachment gone): as before.
    expect(sms.composeBody({ senderName: "Ana", text: "", messageCount: 1 })).toBe("Ana: (attachment)\nReply to answer.");
  });

  it("keeps words and a picture's text as they are", () => {
    expect(sms.composeBody({ senderName: "Ana", text: "the dent, see photo", messageCount: 1, pictures: 1 })).toBe("Ana: the dent, see photo\nReply to answer.");
  });

  it("cuts the words, never a link, and leaves out the links that do not fit, counted", () => {
    const links = [1, 2, 3, 4].map((n) => ({ name: `file-${n}.pdf`, url: url(n) }));
    const body = sms.composeBody({ senderName: "Ana", text: "word ".repeat(200), messageCount: 1, links });
    expect(smsEncoding(body).segments).toBeLessThanOrEqual(MAX_NOTIFICATION_SEGMENTS);
    expect(body.startsWith("Ana: word")).toBe(true);
    const kept = links.filter((l) => body.includes(`${l.name}: ${l.url}\n`));
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(body).toContain(`(+${links.length - kept.length} more ${links.length - kept.length === 1 ? "file" : "files"} in the app)`);
    // Every URL in the text is whole.
    for (const found of body.match(/https:\/\/\S+/g) ?? []) expect(links.map((l) => l.url)).toContain(found);
  });

  it("keeps a text with a link GSM-7 by leaving out a file name that is not", () => {
    const body = sms.composeBody({ senderName: "Ana", text: "here", messageCount: 1, links: [{ name: "🎉 party.pdf", url: url(5) }] });
    expect(body).toBe(`Ana: here\n${url(5)}\nReply to answer.`);
    expect(smsEncoding(body).encoding).toBe("GSM-7");
  });
});
