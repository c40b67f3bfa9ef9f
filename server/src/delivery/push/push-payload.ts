/**
 * The JSON a Web Push notification carries to the service worker (`demo-app/public/switchboard-sw.js`
 * shows it), kept small enough for every push service.
 */

/**
 * Largest payload built, in UTF-8 bytes. RFC 8291 with `aes128gcm` leaves 4096 - 103 = 3993
 * bytes of plaintext in one 4096-byte record (16 salt + 4 rs + 1 idlen + 65 key + 16 tag + 1
 * delimiter); push services refuse anything larger with 413. The margin covers services that
 * count differently.
 */
export const MAX_PUSH_PAYLOAD_BYTES = 3000;

/** Longest sender name and conversation title kept in `title`, in code points. */
const NAME_MAX_CODE_POINTS = 80;
/** A longer `url` is left out rather than cut (a cut URL points nowhere). */
const URL_MAX_LENGTH = 1024;
const ELLIPSIS = "…";

/** What {@link buildPushPayload} needs to know about the message. */
export interface PushPayloadInput {
  conversationId: string;
  /** Group conversations: shown as "<sender> in <title>". */
  conversationTitle?: string;
  /** The newest message the notification covers. */
  messageId: string;
  seq: number;
  senderName: string;
  /** The newest message's text. */
  text: string;
  /** How many messages the notification covers (a collapsed burst); 1 for one message. */
  messageCount: number;
  /** Where a click on the notification leads (same origin as the app). */
  url?: string;
}

/** The payload, as the service worker parses it. */
export interface PushPayload {
  type: "message";
  conversationId: string;
  messageId: string;
  seq: number;
  /** "Ada" or "Ada in Launch plans". */
  title: string;
  /** The text, cut to fit, plus "(+N more)" for a burst. */
  body: string;
  messageCount: number;
  url?: string;
  /** Notification tag: one notification per conversation on the device, replaced by the next. */
  tag: string;
}

/**
 * Builds the payload JSON, at most {@link MAX_PUSH_PAYLOAD_BYTES} UTF-8 bytes for ids within the
 * protocol's limits: the body is cut on a code point boundary (never inside an emoji's surrogate
 * pair) and ends with "…" when cut; the burst suffix is kept whole.
 */
export function buildPushPayload(input: PushPayloadInput): string {
  const sender = clip(input.senderName.trim(), NAME_MAX_CODE_POINTS) || "Someone";
  const group = input.conversationTitle?.trim();
  const url = input.url && input.url.length <= URL_MAX_LENGTH ? input.url : undefined;
  const base: PushPayload = {
    type: "message",
    conversationId: input.conversationId,
    messageId: input.messageId,
    seq: input.seq,
    title: group ? `${sender} in ${clip(group, NAME_MAX_CODE_POINTS)}` : sender,
    body: "",
    messageCount: input.messageCount,
    ...(url ? { url } : {}),
    tag: `switchboard:${input.conversationId}`,
  };
  const more = input.messageCount > 1 ? ` (+${input.messageCount - 1} more)` : "";
  const text = input.text.trim() || "New message";

  const withBody = (body: string) => JSON.stringify({ ...base, body });
  const whole = withBody(`${text}${more}`);
  if (utf8Length(whole) <= MAX_PUSH_PAYLOAD_BYTES) return whole;

  // Every code point takes at least one byte, so no more than the budget can ever fit; cutting
  // first keeps the search cheap for a 100 kB text. (A surrogate pair split by the slice lies
  // past that bound and is dropped below.)
  const codePoints = Array.from(text.slice(0, 2 * MAX_PUSH_PAYLOAD_BYTES + 2));
  const cut = (n: number) => `${codePoints.slice(0, n).join("").replace(/[\s\u200d]+$/u, "")}${ELLIPSIS}${more}`;
  let low = 0;
  let high = codePoints.length;
  if (utf8Length(withBody(cut(0))) > MAX_PUSH_PAYLOAD_BYTES) {
    throw new Error(`push payload: ids and title alone exceed ${MAX_PUSH_PAYLOAD_BYTES} bytes`);
  }
  // The largest n whose cut fits; JSON escaping makes byte cost per code point uneven, so measure.
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (utf8Length(withBody(cut(mid))) <= MAX_PUSH_PAYLOAD_BYTES) low = mid;
    else high = mid - 1;
  }
  return withBody(cut(low));
}

function clip(text: string, maxCodePoints: number): string {
  const codePoints = Array.from(text);
  return codePoints.length <= maxCodePoints ? text : `${codePoints.slice(0, maxCodePoints - 1).join("").trimEnd()}${ELLIPSIS}`;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}
