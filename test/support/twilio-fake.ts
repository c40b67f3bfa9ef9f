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
  /** Every form field as sent. */
  form: Record<string, string>;
  numSegments: number;
  /** ISO-8601: when the fake accepted it. */
  at: string;
}

/**
 * A scripted answer to the next send to one number: a status alone (503), or with Twilio's error
 * `code` and a `Retry-After`; `stall` never answers (until the fake closes), for timeouts.
 */
export type FakeAnswer = number | { status: number; code?: number; message?: string; retryAfter?: string } | "stall";

/** Twilio's form fields of a webhook. */
export type WebhookParams = Record<string, string>;

/**
 * A Twilio-compatible REST endpoint on 127.0.0.1 and a free port, plus Twilio's side of the
 * webhooks: `POST /2010-04-01/Accounts/{sid}/Messages.json` with Basic auth and a form body,
 * answered like Twilio (201 with the message's JSON, or an error object `{ code, message,
 * more_info, status }`), and inbound texts and status callbacks POSTed as forms signed with the
 * official `twilio` package's own signing code.
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
  /** Twilio's inbound-message webhook for a text from `From` to `To`. */
  inboundParams(text: { From: string; To: string; Body: string }): WebhookParams;
  /** Twilio's status callback for the accepted send `sid`. */
  statusParams(sid: string, status: string, errorCode?: string): WebhookParams;
  /** POSTs a signed status callback for an accepted send to `url`. */
  sendStatusCallback(sid: string, status: string, url: string, errorCode?: string): Promise<{ status: number; body: string }>;
  /** POSTs a signed inbound text to `url`; answers Twilio's view of the response (TwiML). */
  sendInbound(url: string, text: { From: string; To: string; Body: string }): Promise<{ status: number; body: string; contentType: string }>;
  close(): Promise<void>;
}

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/;

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

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const match = MESSAGES_PATH.exec(req.url ?? "");
      if (req.method !== "POST" || !match) return error(res, 404, 20404, "The requested resource was not found");
      requests += 1;
      const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
      if (req.headers.authorization !== expected || match[1] !== accountSid) return error(res, 401, 20003, "Authenticate");
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
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

      const sid = `SM${randomBytes(16).toString("hex")}`;
      const numSegments = smsEncoding(form.Body).segments;
      sends.push({ sid, to: form.To, from: form.From, body: form.Body, ...(form.StatusCallback ? { statusCallback: form.StatusCallback } : {}), form, numSegments, at: new Date().toISOString() });
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
        num_media: "0",
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

  const inboundParams: TwilioFake["inboundParams"] = ({ From, To, Body }) => {
    const sid = `SM${randomBytes(16).toString("hex")}`;
    return {
      ToCountry: "US",
      ToState: "CA",
      SmsMessageSid: sid,
      NumMedia: "0",
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
    return { status: response.status, body: await response.text(), contentType: response.headers.get("content-type") ?? "" };
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
    statusParams,
    sendStatusCallback: (sid, status, url, errorCode) => post(url, statusParams(sid, status, errorCode)),
    sendInbound: (url, text) => post(url, inboundParams(text)),
    async close() {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
