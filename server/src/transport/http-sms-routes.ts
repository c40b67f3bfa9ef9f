import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { hasScope, type ApiKeyService } from "../auth/api-key-service.js";
import { SwitchboardError } from "../core/errors.js";
import { parse, phoneSchema } from "../core/schemas.js";
import type { DeliveryStore, SandboxSms } from "../delivery/delivery-store.js";
import { newSandboxSid, type SandboxSmsGateway } from "../delivery/sms/sandbox-sms-gateway.js";
import type { SmsService } from "../delivery/sms/sms-service.js";
import { parseTwilioWebhook } from "../delivery/sms/twilio-sms-gateway.js";
import { validateTwilioSignature, type TwilioParams } from "../delivery/sms/twilio-signature.js";
import type { HttpEnv } from "./http-routes.js";

/** What the SMS routes need, built by the composition root. */
export interface SmsHttpDeps {
  sms: SmsService;
  /** `SMS_PROVIDER`: the Twilio webhooks answer only with `twilio`, the sandbox only with `sandbox`. */
  provider: "twilio" | "sandbox";
  /** `TWILIO_AUTH_TOKEN`, which signs Twilio's webhooks; required with `twilio`. */
  authToken?: string;
  /** `PUBLIC_URL`: the base of the webhook URLs configured at Twilio, which Twilio signs. */
  publicUrl: string;
  /** Checks the admin key of the sandbox API. */
  apiKeys: ApiKeyService;
  /** The sandbox driver (present with `sandbox`). */
  sandbox?: SandboxSmsGateway;
  /** Where the sandbox texts are kept. */
  store: DeliveryStore;
  /**
   * Largest file of a picture the sandbox sends as a phone user, and of all its files together
   * (`MMS_INBOUND_MAX_BYTES`, as for Twilio's 5 MB per MMS); `POST /v1/sandbox/sms/inbound` takes
   * a body of a third more (base64) instead of `MAX_HTTP_BODY_BYTES`. Default 5242880, as the
   * variable's.
   */
  sandboxMediaMaxBytes?: number;
  /** Signed links to the uploads an inbound sandbox MMS became, so the page can show them (absent: uploads off). */
  mediaLinks?: (uploadId: string) => Promise<string>;
}

/** Inbound texts Twilio forwards: form-encoded, signed with `X-Twilio-Signature`. */
export const SMS_INBOUND_PATH = "/v1/sms/inbound";
/** Twilio's status callbacks for the texts we sent. */
export const SMS_STATUS_PATH = "/v1/sms/status";
/** The sandbox page (HTML). */
export const SANDBOX_PAGE_PATH = "/sandbox/sms";
/** A text (or MMS) from a phone user, sent from the sandbox page; its body limit is its own (see {@link SmsHttpDeps.sandboxMediaMaxBytes}). */
export const SANDBOX_INBOUND_PATH = "/v1/sandbox/sms/inbound";

/** Longest text the sandbox accepts as inbound: Twilio's limit for one message body. */
const SANDBOX_BODY_MAX = 1600;
/** Texts the sandbox API lists at most. */
const SANDBOX_LIST_MAX = 500;

/** CSP of the sandbox page: its script and stylesheet are files of this origin, nothing inline. */
const SANDBOX_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** {@link SmsHttpDeps.sandboxMediaMaxBytes} when not given: `MMS_INBOUND_MAX_BYTES`'s default. */
const DEFAULT_SANDBOX_MEDIA_MAX_BYTES = 5 * 1024 * 1024;
/** Files of one sandbox MMS at most, as with Twilio. */
const SANDBOX_MEDIA_MAX = 10;

const sandboxMediaSchema = z.strictObject({
  /** The type the phone claims; the upload service decides from the bytes. */
  contentType: z.string().regex(/^[a-z]+\/[a-z0-9.+-]{1,100}$/i, "must be a media type such as image/jpeg").optional(),
  name: z.string().min(1).max(200).optional(),
  /** The file, base64 (standard or url-safe alphabet). */
  data: z.string().min(1).regex(/^[A-Za-z0-9+/_-]+={0,2}$/, "must be the file's bytes in base64"),
});

const sandboxInboundSchema = z
  .strictObject({
    from: phoneSchema,
    to: phoneSchema,
    body: z.string().max(SANDBOX_BODY_MAX).default(""),
    media: z.array(sandboxMediaSchema).max(SANDBOX_MEDIA_MAX).optional(),
  })
  .superRefine((value, ctx) => {
    if (value.body.trim() === "" && !value.media?.length) ctx.addIssue({ code: "custom", path: ["body"], message: "send a text, a picture (media), or both" });
  });

const sandboxListSchema = z.strictObject({
  phone: phoneSchema.optional(),
  limit: z.coerce.number().int().min(1).max(SANDBOX_LIST_MAX).optional(),
});

/**
 * Registers the SMS bridge's HTTP surface. It must come before the `/v1` API key middleware:
 * Twilio's webhooks carry a signature instead of a key, and the sandbox API checks its admin key
 * itself.
 *
 * - `POST /v1/sms/inbound`, `POST /v1/sms/status` (provider `twilio`): form-encoded webhooks whose
 *   `X-Twilio-Signature` must match `PUBLIC_URL` + path (+ query) and the form, else 403. Inbound
 *   texts are answered with TwiML (`<Response><Message>…</Message></Response>` or `<Response/>`).
 * - `GET /sandbox/sms` (provider `sandbox`): a page listing the texts per phone number with a
 *   form to answer as a phone; its script is `/sandbox-sms.js` from the demo app's files.
 * - `GET /v1/sandbox/sms?phone=&limit=` → `{ ourNumbers, texts }` (oldest first; an MMS with its
 *   `mediaUrls`) and `POST /v1/sandbox/sms/inbound` `{ from, to, body, media?: [{ contentType?,
 *   name?, data }] }` → `{ sid, reply?, messageId? }` (provider `sandbox`, admin API key): a text
 *   or MMS (files in base64) from a phone, handled exactly like one from Twilio.
 */
export function registerSmsRoutes(app: OpenAPIHono<HttpEnv>, deps: SmsHttpDeps): void {
  const base = deps.publicUrl.replace(/\/+$/, "");

  /** The form of a Twilio webhook, checked against its signature. */
  const signedForm = async (c: Context<HttpEnv>): Promise<TwilioParams> => {
    if (deps.provider !== "twilio") {
      throw new SwitchboardError(
        "not_found",
        `${c.req.path} receives Twilio webhooks, but SMS_PROVIDER is ${deps.provider}: sandbox texts are answered at ${base}${SANDBOX_PAGE_PATH}.`,
      );
    }
    if (!deps.authToken) throw new SwitchboardError("unavailable", "TWILIO_AUTH_TOKEN is not set, so Twilio's webhook signatures cannot be checked.");
    const contentType = c.req.header("content-type") ?? "";
    if (!/^application\/x-www-form-urlencoded\b/i.test(contentType)) {
      throw new SwitchboardError("invalid_argument", `Twilio webhooks are application/x-www-form-urlencoded, not ${contentType || "without a Content-Type"}.`);
    }
    const params = parseForm(await c.req.text());
    // Twilio signs the URL it was configured with: PUBLIC_URL plus the path and query as sent.
    const url = base + pathAndQuery(c.req.url);
    if (!validateTwilioSignature(deps.authToken, url, params, c.req.header("x-twilio-signature"))) {
      throw new SwitchboardError(
        "forbidden",
        `X-Twilio-Signature does not match this request for ${url}. Twilio signs the webhook URL configured for the number, ` +
          `which must be PUBLIC_URL (${base}) followed by ${c.req.path}; check PUBLIC_URL and TWILIO_AUTH_TOKEN.`,
      );
    }
    return params;
  };

  app.post(SMS_INBOUND_PATH, async (c) => {
    const webhook = parseTwilioWebhook(await signedForm(c));
    if (webhook?.kind !== "inbound") {
      throw new SwitchboardError("invalid_argument", `${SMS_INBOUND_PATH} takes Twilio's incoming-message webhook (MessageSid, From, To, Body).`);
    }
    const { media, ...text } = webhook;
    const { reply } = await deps.sms.handleInbound({ ...text, media: media.map((m) => ({ kind: "url", ...m })) });
    return c.body(twiml(reply), 200, { "Content-Type": "text/xml; charset=utf-8" });
  });

  app.post(SMS_STATUS_PATH, async (c) => {
    const webhook = parseTwilioWebhook(await signedForm(c));
    if (webhook?.kind !== "status") {
      throw new SwitchboardError("invalid_argument", `${SMS_STATUS_PATH} takes Twilio's status callback (MessageSid, MessageStatus).`);
    }
    await deps.sms.handleStatus(webhook);
    return c.body(null, 204);
  });

  const requireSandbox = (): void => {
    if (deps.provider !== "sandbox") {
      throw new SwitchboardError("not_found", `The SMS sandbox is off: SMS_PROVIDER is ${deps.provider}.`);
    }
  };

  const requireAdmin = async (c: Context<HttpEnv>): Promise<void> => {
    const principal = await deps.apiKeys.verify(c.req.header("authorization"));
    c.set("principal", principal);
    if (!hasScope(principal, "admin")) throw new SwitchboardError("forbidden", `API key ${principal.name} lacks the \`admin\` scope the SMS sandbox needs.`);
  };

  app.get(SANDBOX_PAGE_PATH, (c) => {
    requireSandbox();
    c.header("Content-Security-Policy", SANDBOX_CSP);
    c.header("Cache-Control", "no-store");
    return c.html(sandboxPage(deps.sms.ourNumbers));
  });

  app.get(`${SANDBOX_PAGE_PATH}.css`, (c) => {
    requireSandbox();
    return c.body(SANDBOX_CSS, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "no-cache" });
  });

  app.get("/v1/sandbox/sms", async (c) => {
    requireSandbox();
    await requireAdmin(c);
    const { phone, limit } = parse(sandboxListSchema, c.req.query());
    const texts = await deps.store.listSandboxSms(limit ?? 200, phone);
    return c.json({ ourNumbers: deps.sms.ourNumbers, texts: texts.reverse() }, 200);
  });

  // Pictures in base64 take a third more than their bytes; the API-wide limit does not apply here.
  const mediaMax = deps.sandboxMediaMaxBytes ?? DEFAULT_SANDBOX_MEDIA_MAX_BYTES;
  const sandboxBodyMax = Math.ceil((mediaMax * 4) / 3) + SANDBOX_BODY_MAX * 4 + 4096;
  app.post(
    SANDBOX_INBOUND_PATH,
    bodyLimit({
      maxSize: sandboxBodyMax,
      onError: () => {
        throw new SwitchboardError("payload_too_large", `The sandbox takes pictures of ${mediaMax} bytes in all (MMS_INBOUND_MAX_BYTES); send smaller ones.`);
      },
    }),
    async (c) => {
      requireSandbox();
      await requireAdmin(c);
      const { from, to, body, media } = parse(sandboxInboundSchema, await c.req.json().catch(() => undefined));
      if (!deps.sms.ourNumbers.includes(to)) {
        throw new SwitchboardError("invalid_argument", `to: ${to} is not one of our numbers (SMS_FROM): ${deps.sms.ourNumbers.join(", ")}.`);
      }
      const files = (media ?? []).map((m) => ({ kind: "bytes" as const, bytes: Buffer.from(m.data, "base64"), ...(m.contentType ? { contentType: m.contentType } : {}), ...(m.name ? { name: m.name } : {}) }));
      const total = files.reduce((sum, f) => sum + f.bytes.byteLength, 0);
      if (total > mediaMax) {
        throw new SwitchboardError("payload_too_large", `media: ${total} bytes in all, more than MMS_INBOUND_MAX_BYTES (${mediaMax}); send smaller pictures.`);
      }
      const sid = newSandboxSid(files.length ? "MM" : "SM");
      const at = new Date().toISOString();
      const record = (sms: SandboxSms) => deps.store.recordSandboxSms(sms);
      const { reply, message } = await deps.sms.handleInbound({ providerMessageId: sid, from, to, body, media: files });
      // Recorded once handled, so the page can show the pictures as the server kept them (with
      // the time it arrived, so it still lists before the answer).
      const kept = deps.mediaLinks ? await Promise.all((message?.attachments ?? []).flatMap((a) => (a.uploadId ? [deps.mediaLinks!(a.uploadId)] : []))) : [];
      await record({ sid, direction: "inbound", from, to, body, ...(kept.length ? { mediaUrls: kept } : {}), status: "received", at });
      // A TwiML answer is a text from our number like any other: keep it on the page.
      if (reply) await record({ sid: newSandboxSid(), direction: "outbound", from: to, to: from, body: reply, status: "delivered", at: new Date().toISOString() });
      return c.json({ sid, ...(reply ? { reply } : {}), ...(message ? { messageId: message.id } : {}) }, 200);
    },
  );
}

/** A form body's parameters; a name sent several times keeps all its values, in order. */
function parseForm(body: string): TwilioParams {
  const params = new Map<string, string | string[]>();
  for (const [key, value] of new URLSearchParams(body)) {
    const previous = params.get(key);
    params.set(key, previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value]);
  }
  // fromEntries defines own properties, so a `__proto__` field is just a field.
  return Object.fromEntries(params);
}

/** The path and query of `url` exactly as received (not decoded, not normalised). */
function pathAndQuery(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const withoutFragment = start === -1 ? "/" : url.slice(start);
  const hash = withoutFragment.indexOf("#");
  return hash === -1 ? withoutFragment : withoutFragment.slice(0, hash);
}

/** The TwiML answer to an inbound text: one reply message, or nothing. */
export function twiml(reply: string | undefined): string {
  const head = '<?xml version="1.0" encoding="UTF-8"?>';
  return reply ? `${head}<Response><Message>${escapeXml(reply)}</Message></Response>` : `${head}<Response/>`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[ch] as string);
}

function sandboxPage(ourNumbers: readonly string[]): string {
  const options = ourNumbers.map((n) => `<option value="${escapeXml(n)}">${escapeXml(n)}</option>`).join("");
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Switchboard · SMS sandbox</title>
  <link rel="stylesheet" href="${SANDBOX_PAGE_PATH}.css">
  <script src="/sandbox-sms.js" defer></script>
</head>
<body>
  <header>
    <h1>SMS sandbox</h1>
    <p>With <code>SMS_PROVIDER=sandbox</code> no text leaves this server: the texts it sends to phone users are listed here
      (with the pictures of an MMS), and you can answer as a phone user, with pictures too. Answers go through the same path
      as a Twilio webhook (keywords STOP, START and HELP included).</p>
  </header>
  <main>
    <section aria-labelledby="key-title">
      <h2 id="key-title">Admin API key</h2>
      <form id="key-form">
        <label for="key">Key (kept in this tab only)</label>
        <input id="key" name="key" type="password" autocomplete="off" required>
        <button type="submit">Use key</button>
        <button type="button" id="forget-key">Forget</button>
      </form>
      <p id="status" role="status"></p>
    </section>
    <section aria-labelledby="reply-title">
      <h2 id="reply-title">Text as a phone user</h2>
      <form id="reply-form">
        <label for="reply-from">From (the phone)</label>
        <input id="reply-from" name="from" required pattern="\\+[1-9][0-9]{6,14}" placeholder="+14155550100">
        <label for="reply-to">To (our number)</label>
        <select id="reply-to" name="to" required>${options}</select>
        <label for="reply-body">Text</label>
        <textarea id="reply-body" name="body" maxlength="${SANDBOX_BODY_MAX}" rows="3"></textarea>
        <label for="reply-media">Pictures (MMS)</label>
        <input id="reply-media" name="media" type="file" accept="image/*" multiple>
        <button type="submit">Send</button>
      </form>
      <p id="reply-result" role="status"></p>
    </section>
    <section aria-labelledby="texts-title">
      <h2 id="texts-title">Texts</h2>
      <form id="filter-form">
        <label for="phone-filter">Only phone</label>
        <input id="phone-filter" name="phone" placeholder="all phones">
        <button type="submit">Show</button>
      </form>
      <div id="threads"><p>Enter an admin API key to see the texts.</p></div>
    </section>
  </main>
</body>
</html>
`;
}

const SANDBOX_CSS = `body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 860px; padding: 0 16px 48px; color: #1f2328; }
h1 { margin: 24px 0 4px; }
section { border-top: 1px solid #d0d7de; margin-top: 20px; }
form { display: grid; grid-template-columns: max-content 1fr; gap: 8px 12px; align-items: center; max-width: 640px; }
form button { grid-column: 2; justify-self: start; }
#key-form button + button { grid-column: 2; }
textarea, input, select { font: inherit; padding: 4px 6px; }
.thread { border: 1px solid #d0d7de; border-radius: 8px; margin: 12px 0; padding: 8px 12px; }
.thread h3 { margin: 0 0 8px; font-size: 16px; display: flex; gap: 12px; align-items: baseline; }
.texts { list-style: none; margin: 0; padding: 0; }
.texts li { margin: 6px 0; padding: 6px 10px; border-radius: 10px; max-width: 80%; white-space: pre-wrap; overflow-wrap: anywhere; }
.texts li.outbound { background: #f3f4f6; }
.texts li.inbound { background: #dbeafe; margin-left: auto; }
.meta { display: block; font-size: 12px; color: #57606a; white-space: normal; }
.media { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0 2px; }
.media img { max-width: 160px; max-height: 160px; border-radius: 6px; object-fit: cover; background: #fff; }
.error { color: #b42318; }
`;
