import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import twilio from "twilio";
import { smsEncoding } from "../../server/src/delivery/sms/sms-encoding.js";

/** A text the fake accepted (answered 201). */
export interface FakeSend {
  sid: string;
  to: string;
  from: string;
  body: string;
  statusCallback?: string;
  /** Every form field as sent (a repeated field: its first value; see `mediaUrls`). */
  form: Record<string, string>;
  /** The `MediaUrl` fields, in order: an MMS. */
  mediaUrls: string[];
  /**
   * What the fake got when it fetched each `MediaUrl` after accepting the send, as Twilio does
   * before it hands an MMS to the carrier; filled in as the fetches finish, in `mediaUrls` order.
   */
  fetchedMedia: FakeFetchedMedia[];
  numSegments: number;
  /** ISO-8601: when the fake accepted it. */
  at: string;
}

/** One `MediaUrl` of an accepted send, as the fake fetched it (following redirects, like Twilio). */
export interface FakeFetchedMedia {
  url: string;
  status: number;
  contentType: string;
  bytes: Buffer;
}

/** A file the fake serves for inbound MMS, like Twilio's `/Media/ME…` resource. */
export interface FakeMedia {
  /** The `MediaUrl{N}` to put in an inbound webhook: on the API origin, redirecting to the "CDN". */
  url: string;
  contentType: string;
}

/** One request for a served inbound file, at the API origin or at the CDN it redirects to. */
export interface FakeMediaRequest {
  origin: "api" | "cdn";
  path: string;
  /** The `Authorization` header, if any (the CDN must never get Twilio's credentials). */
  authorization?: string;
}

/**
 * A scripted answer to the next send to one number: a status alone (503), or with Twilio's error
 * `code` and a `Retry-After`; `stall` never answers (until the fake closes), for timeouts.
 */
export type FakeAnswer = number | { status: number; code?: number; message?: string; retryAfter?: string } | "stall";

/** Twilio's form fields of a webhook. */
export type WebhookParams = Record<string, string>;

/** An inbound text or MMS as the fake posts it. */
export interface InboundText {
  From: string;
  To: string;
  Body: string;
  /** The MMS's files (`serveMedia`, or any URL for refusal tests). */
  media?: FakeMedia[];
}

/**
 * A Twilio-compatible REST endpoint on 127.0.0.1 and a free port, plus Twilio's side of the
 * webhooks: `POST /2010-04-01/Accounts/{sid}/Messages.json` with Basic auth and a form body,
 * answered like Twilio (201 with the message's JSON, or an error object `{ code, message,
 * more_info, status }`; repeated `MediaUrl` fields make an MMS, whose media the fake then fetches
 * and keeps), and inbound texts, MMS and status callbacks POSTed as forms signed with the
 * official `twilio` package's own signing code. Inbound MMS files are served like Twilio's media
 * resource: Basic auth on the API origin, then a redirect to a second origin (the CDN).
 */
export interface TwilioFake {
  /** The base URL, for `TWILIO_API_BASE_URL`. */
  url: string;
  accountSid: string;
  authToken: string;
  /** Texts answered 201, oldest first. */
  sends: FakeSend[];
  /** Every request to the Messages resource, answered or not. */
  requestCount(): number;
  /** The next sends to `to` get these answers, in order; later ones are accepted again. */
  failNext(to: string, answers: FakeAnswer[]): void;
  /** The form body and headers of a webhook to `url` signed by Twilio's code (for `signUrl`, default `url`). */
  signedRequest(url: string, params: WebhookParams, options?: { signUrl?: string; authToken?: string }): { body: string; headers: Record<string, string> };
  /**
   * Twilio's inbound-message webhook for a text from `From` to `To`; with `media`, an MMS
   * (`NumMedia`, `MediaUrl{N}`, `MediaContentType{N}`, an `MM…` sid).
   */
  inboundParams(text: InboundText): WebhookParams;
  /**
   * Serves `bytes` as an inbound MMS file: the URL is on the API origin, answers only with the
   * account's Basic auth (401 otherwise, as with Twilio's "HTTP auth on media URLs" setting) and
   * redirects (307) to a second origin, the "CDN", which serves the bytes without auth.
   */
  serveMedia(bytes: Buffer, contentType: string): FakeMedia;
  /** Requests for served files, oldest first. */
  mediaRequests: FakeMediaRequest[];
  /** The "CDN" origin that served files redirect to. */
  cdnUrl: string;
  /** Twilio's status callback for the accepted send `sid`. */
  statusParams(sid: string, status: string, errorCode?: string): WebhookParams;
  /** POSTs a signed status callback for an accepted send to `url`. */
  sendStatusCallback(sid: string, status: string, url: string, errorCode?: string): Promise<{ status: number; body: string }>;
  /** POSTs a signed inbound text to `url`; answers Twilio's view of the response (TwiML) and the form it posted. */
  sendInbound(url: string, text: InboundText): Promise<{ status: number; body: string; contentType: string; params: WebhookParams }>;
  close(): Promise<void>;
}

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;
const MEDIA_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/(MM[0-9a-f]{32})\/Media\/(ME[0-9a-f]{32})$/;

/** Starts a fake with fresh credentials. */
export async function startTwilioFake(): Promise<TwilioFake> {
  const accountSid = `AC${randomBytes(16).toString("hex")}`;
  const authToken = randomBytes(16).toString("hex");
  const sends: FakeSend[] = [];
  const scripts = new Map<string, FakeAnswer[]>();
  let requests = 0;
  const stalled = new Set<http.ServerResponse>();

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  };
  const error = (res: http.ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}) =>
    json(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }, headers);

  const served = new Map<string, { bytes: Buffer; contentType: string }>();
  const mediaRequests: FakeMediaRequest[] = [];
  const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;

  // The "CDN" Twilio's media URLs redirect to: another origin, no auth, the bytes.
  const cdn = http.createServer((req, res) => {
    const path = req.url ?? "";
    mediaRequests.push({ origin: "cdn", path, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const file = served.get(path.replace(/^\/media\//, "").split("?")[0]);
    if (req.method !== "GET" || !file) {
      res.writeHead(404, { "content-type": "text/plain" });
      return res.end("not found");
    }
    res.writeHead(200, { "content-type": file.contentType, "content-length": String(file.bytes.length) });
    res.end(file.bytes);
  });
  await new Promise<void>((resolve) => cdn.listen(0, "127.0.0.1", resolve));
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  /** Fetches an accepted MMS's media like Twilio: following redirects, keeping what it got. */
  const fetchMedia = async (send: FakeSend) => {
    for (const url of send.mediaUrls) {
      try {
        const response = await fetch(url, { headers: { "user-agent": "TwilioProxy/1.1" } });
        const bytes = Buffer.from(await response.arrayBuffer());
        send.fetchedMedia.push({ url, status: response.status, contentType: response.headers.get("content-type") ?? "", bytes });
      } catch (err) {
        send.fetchedMedia.push({ url, status: 0, contentType: `fetch failed: ${(err as Error).message}`, bytes: Buffer.alloc(0) });
      }
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const media = MEDIA_PATH.exec(req.url ?? "");
      if (req.method === "GET" && media) {
        mediaRequests.push({ origin: "api", path: req.url ?? "", ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
        if (req.headers.authorization !== expectedAuth || media[1] !== accountSid) return error(res, 401, 20003, "Authenticate");
        if (!served.has(media[3])) return error(res, 404, 20404, "The requested resource was not found");
        res.writeHead(307, { location: `${cdnUrl}/media/${media[3]}?Expires=4102444800&Signature=cdn-signature` });
        return res.end();
      }
      const match = MESSAGES_PATH.exec(req.url ?? "");
      if (req.method !== "POST" || !match) return error(res, 404, 20404, "The requested resource was not found");
      requests += 1;
      if (req.headers.authorization !== expectedAuth || match[1] !== accountSid) return error(res, 401, 20003, "Authenticate");
      const fields = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const form: Record<string, string> = {};
      for (const [key, value] of fields) if (!(key in form)) form[key] = value;
      const mediaUrls = fields.getAll("MediaUrl");
      if (mediaUrls.length > 10) return error(res, 400, 21623, "Number of media files exceeds allowed limit. 10 is the maximum.");
      if (!form.To) return error(res, 400, 21604, "A 'To' phone number is required.");
      if (!form.From) return error(res, 400, 21603, "A 'From' phone number is required.");
      if (!form.Body) return error(res, 400, 21602, "Message body is required.");

      const answer = scripts.get(form.To)?.shift();
      if (answer === "stall") {
        stalled.add(res);
        return;
      }
      if (answer !== undefined) {
        const { status, code, message, retryAfter } = typeof answer === "number" ? { status: answer } : answer;
        const headers: Record<string, string> = retryAfter ? { "retry-after": retryAfter } : {};
        if (code !== undefined) return error(res, status, code, message ?? `Error ${code}`, headers);
        return json(res, status, { code: 20500, message: "Internal Server Error", more_info: "https://www.twilio.com/docs/errors/20500", status }, headers);
      }

      const sid = `${mediaUrls.length ? "MM" : "SM"}${randomBytes(16).toString("hex")}`;
      const numSegments = smsEncoding(form.Body).segments;
      const send: FakeSend = {
        sid,
        to: form.To,
        from: form.From,
        body: form.Body,
        ...(form.StatusCallback ? { statusCallback: form.StatusCallback } : {}),
        form,
        mediaUrls,
        fetchedMedia: [],
        numSegments,
        at: new Date().toISOString(),
      };
      sends.push(send);
      if (mediaUrls.length) void fetchMedia(send);
      const now = new Date().toUTCString().replace("GMT", "+0000");
      json(res, 201, {
        account_sid: accountSid,
        api_version: "2010-04-01",
        body: form.Body,
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: "outbound-api",
        error_code: null,
        error_message: null,
        from: form.From,
        messaging_service_sid: null,
        num_media: String(mediaUrls.length),
        num_segments: String(numSegments),
        price: null,
        price_unit: "USD",
        sid,
        status: "queued",
        subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
        to: form.To,
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const signedRequest: TwilioFake["signedRequest"] = (url, params, options = {}) => {
    const signature = twilio.getExpectedTwilioSignature(options.authToken ?? authToken, options.signUrl ?? url, params);
    return {
      body: new URLSearchParams(params).toString(),
      headers: {
        "content-type": "application/x-www-form-urlencoded; charset=UTF-8",
        "x-twilio-signature": signature,
        "user-agent": "TwilioProxy/1.1",
        "i-twilio-idempotency-token": randomBytes(16).toString("hex"),
      },
    };
  };

  const inboundParams: TwilioFake["inboundParams"] = ({ From, To, Body, media = [] }) => {
    const sid = `${media.length ? "MM" : "SM"}${randomBytes(16).toString("hex")}`;
    const mediaParams: WebhookParams = {};
    media.forEach((m, i) => {
      mediaParams[`MediaUrl${i}`] = m.url;
      mediaParams[`MediaContentType${i}`] = m.contentType;
    });
    return {
      ...mediaParams,
      ToCountry: "US",
      ToState: "CA",
      SmsMessageSid: sid,
      NumMedia: String(media.length),
      ToCity: "",
      FromZip: "",
      SmsSid: sid,
      FromState: "",
      SmsStatus: "received",
      FromCity: "",
      Body,
      FromCountry: "US",
      To,
      ToZip: "",
      NumSegments: String(smsEncoding(Body).segments),
      MessageSid: sid,
      AccountSid: accountSid,
      From,
      ApiVersion: "2010-04-01",
    };
  };

  const statusParams: TwilioFake["statusParams"] = (sid, status, errorCode) => {
    const send = sends.find((s) => s.sid === sid);
    return {
      AccountSid: accountSid,
      ApiVersion: "2010-04-01",
      From: send?.from ?? "",
      MessageSid: sid,
      MessageStatus: status,
      SmsSid: sid,
      SmsStatus: status,
      To: send?.to ?? "",
      ...(errorCode ? { ErrorCode: errorCode } : {}),
    };
  };

  const post = async (url: string, params: WebhookParams) => {
    const { body, headers } = signedRequest(url, params);
    const response = await fetch(url, { method: "POST", headers, body });
    return { status: response.status, body: await response.text(), contentType: response.headers.get("content-type") ?? "", params };
  };

  const serveMedia: TwilioFake["serveMedia"] = (bytes, contentType) => {
    const messageSid = `MM${randomBytes(16).toString("hex")}`;
    const mediaSid = `ME${randomBytes(16).toString("hex")}`;
    served.set(mediaSid, { bytes, contentType });
    return { url: `http://127.0.0.1:${port}/2010-04-01/Accounts/${accountSid}/Messages/${messageSid}/Media/${mediaSid}`, contentType };
  };

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    sends,
    requestCount: () => requests,
    failNext(to, answers) {
      scripts.set(to, [...(scripts.get(to) ?? []), ...answers]);
    },
    signedRequest,
    inboundParams,
    serveMedia,
    mediaRequests,
    cdnUrl,
    statusParams,
    sendStatusCallback: (sid, status, url, errorCode) => post(url, statusParams(sid, status, errorCode)),
    sendInbound: (url, text) => post(url, inboundParams(text)),
    async close() {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      cdn.closeAllConnections();
      await Promise.all([server, cdn].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
