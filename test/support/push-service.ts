import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, type ECDH, type KeyObject } from "node:crypto";
import fs from "node:fs";
import type { IncomingMessage } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { errors as joseErrors, jwtVerify } from "jose";
import { generate } from "selfsigned";

/**
 * A real Web Push service on https://127.0.0.1:<free port>, playing both the push service and the
 * browser behind each subscription:
 * - it checks the VAPID `Authorization: vapid t=<jwt>, k=<key>` header per RFC 8292 (ES256
 *   signature with `k`, `aud` = its origin, `exp` in the future and at most 24 h away, `sub`
 *   present; a subscription made with an `applicationServerKey` only accepts that key), answering
 *   401 or 403 otherwise;
 * - it decrypts the body per RFC 8291 / RFC 8188 (`aes128gcm`) with the subscription's private
 *   key and auth secret, implemented here with node:crypto independently of `web-push`;
 * - it records every push it accepted and answers what the test scripted (201 by default).
 * Its certificate is self-signed: in-process senders use {@link PushService.agent}; a spawned
 * server gets `NODE_EXTRA_CA_CERTS` = {@link PushService.writeCaCert}.
 */

/** A push the service authenticated and decrypted. */
export interface ReceivedPush {
  subscriptionId: string;
  /** `TTL` header, seconds. */
  ttl: number;
  /** `Urgency` header (absent: the RFC's `normal`). */
  urgency?: string;
  /** `Topic` header. */
  topic?: string;
  /** The decrypted payload parsed as JSON (undefined when it is not JSON). */
  payload: unknown;
  /** The decrypted payload as text. */
  payloadText: string;
  /** Size of the encrypted request body, bytes. */
  bodyBytes: number;
  /** The VAPID JWT's `sub`, `aud`, `exp` (epoch s) and the `k` it was verified with. */
  vapidSubject: string;
  vapidAudience: string;
  vapidExpiresAt: number;
  vapidPublicKey: string;
  /** What the service answered. */
  status: number;
}

/** A request the service refused before accepting a push. */
export interface RejectedPush {
  subscriptionId: string;
  status: number;
  reason: string;
}

/** A scripted answer: a status, a status with headers, or `"hang"` (never answer; for timeouts). */
export type PushAnswer = number | { status: number; headers?: Record<string, string>; body?: string } | "hang";

/** The browser side of a subscription, as the service needs it to decrypt. */
export interface SubscriberKeys {
  ecdh: ECDH;
  auth: Buffer;
  /** The VAPID public key the subscription was made with (base64url); absent: any key is accepted. */
  applicationServerKey?: string;
}

/** A running {@link startPushService}. */
export interface PushService {
  /** `https://127.0.0.1:<port>`: the VAPID audience. */
  origin: string;
  /** The self-signed certificate, PEM. */
  caCert: string;
  /** An agent trusting {@link caCert}, for `WebPushSender({ agent })`. */
  agent: https.Agent;
  /** Every accepted push, oldest first. */
  received: ReceivedPush[];
  /** Every refused request, oldest first. */
  rejected: RejectedPush[];
  /** Registers a subscription; returns its endpoint. */
  register(id: string, keys: SubscriberKeys): string;
  /** The next answers to pushes of this subscription, in order; 201 again once used up. */
  respondWith(id: string, answers: PushAnswer[]): void;
  /** The browser unsubscribed: every later push to it gets 410. */
  expire(id: string): void;
  receivedFor(id: string): ReceivedPush[];
  /** Writes {@link caCert} into `dir`; returns the file, for `NODE_EXTRA_CA_CERTS`. */
  writeCaCert(dir: string): string;
  close(): Promise<void>;
}

/** A browser-like subscription: fresh P-256 key pair and auth secret, known to the service. */
export interface PushSubscriber {
  id: string;
  endpoint: string;
  /** base64url, as browsers give them. */
  p256dh: string;
  auth: string;
  /** `PushSubscription.toJSON()` as a browser answers it. */
  toJSON(): { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  /** The pushes this subscription received. */
  received(): ReceivedPush[];
}

/** RFC 8292 section 2: a JWT must not expire more than 24 hours ahead (a minute of clock skew allowed). */
const MAX_EXPIRY_SECONDS = 24 * 60 * 60 + 60;
/** RFC 8030 section 7.2: push services must accept at least 4096 bytes; real ones refuse more. */
const MAX_BODY_BYTES = 4096;

class Refusal extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(reason);
  }
}

/** Starts a push service with a fresh self-signed certificate on 127.0.0.1 and a free port. */
export async function startPushService(): Promise<PushService> {
  const pems = await generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }, { type: 2, value: "localhost" }] },
    ],
  });
  const subscribers = new Map<string, SubscriberKeys>();
  const expired = new Set<string>();
  const scripts = new Map<string, PushAnswer[]>();
  const received: ReceivedPush[] = [];
  const rejected: RejectedPush[] = [];
  let origin = "";
  let messages = 0;

  const server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const match = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url ?? "");
      const id = match?.[1] ?? "";
      const answer = (status: number, headers: Record<string, string> = {}, text = "") => {
        res.writeHead(status, { "content-type": "text/plain", ...headers });
        res.end(text);
      };
      void accept(req, Buffer.concat(chunks), id).then(
        (push) => {
          const queue = scripts.get(id);
          const scripted = queue && queue.length > 0 ? queue.shift() : undefined;
          if (scripted === "hang") {
            received.push({ ...push, status: 0 });
            return;
          }
          const { status, headers, body } =
            scripted === undefined
              ? { status: 201, headers: { location: `${origin}/message/${++messages}` }, body: "" }
              : typeof scripted === "number"
                ? { status: scripted, headers: {}, body: scripted >= 400 ? `push service says ${scripted}` : "" }
                : { headers: {}, body: "", ...scripted };
          received.push({ ...push, status });
          answer(status, headers, body);
        },
        (err: unknown) => {
          const status = err instanceof Refusal ? err.status : 500;
          rejected.push({ subscriptionId: id, status, reason: (err as Error).message });
          answer(status, {}, (err as Error).message);
        },
      );
    });
  });

  /** Authenticates and decrypts one request; throws a {@link Refusal} with the status to answer. */
  async function accept(req: IncomingMessage, body: Buffer, id: string): Promise<Omit<ReceivedPush, "status">> {
    if (req.method !== "POST") throw new Refusal(405, "only POST");
    const subscriber = subscribers.get(id);
    if (!subscriber) throw new Refusal(404, `no subscription ${id}`);
    const vapid = await verifyVapid(req.headers.authorization, origin, subscriber.applicationServerKey);
    if (expired.has(id)) throw new Refusal(410, `subscription ${id} expired`);
    const ttlHeader = header(req, "ttl");
    if (ttlHeader === undefined || !/^\d+$/.test(ttlHeader)) throw new Refusal(400, "TTL header missing or not a number");
    const urgency = header(req, "urgency");
    if (urgency !== undefined && !["very-low", "low", "normal", "high"].includes(urgency)) throw new Refusal(400, `bad Urgency ${urgency}`);
    const topic = header(req, "topic");
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) throw new Refusal(400, `bad Topic ${topic}`);
    if (body.length > MAX_BODY_BYTES) throw new Refusal(413, `body of ${body.length} bytes is over ${MAX_BODY_BYTES}`);
    if (header(req, "content-encoding") !== "aes128gcm") throw new Refusal(415, "Content-Encoding must be aes128gcm");
    let plaintext: Buffer;
    try {
      plaintext = decryptAes128gcm(body, subscriber.ecdh, subscriber.auth);
    } catch (err) {
      throw new Refusal(400, `cannot decrypt: ${(err as Error).message}`);
    }
    const payloadText = plaintext.toString("utf8");
    let payload: unknown;
    try {
      payload = JSON.parse(payloadText);
    } catch {
      payload = undefined;
    }
    return {
      subscriptionId: id,
      ttl: Number(ttlHeader),
      ...(urgency !== undefined ? { urgency } : {}),
      ...(topic !== undefined ? { topic } : {}),
      payload,
      payloadText,
      bodyBytes: body.length,
      ...vapid,
    };
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new https.Agent({ ca: pems.cert });

  return {
    origin,
    caCert: pems.cert,
    agent,
    received,
    rejected,
    register(id, keys) {
      subscribers.set(id, keys);
      return `${origin}/push/${id}`;
    },
    respondWith(id, answers) {
      scripts.set(id, [...answers]);
    },
    expire(id) {
      expired.add(id);
    },
    receivedFor: (id) => received.filter((p) => p.subscriptionId === id),
    writeCaCert(dir) {
      const file = path.join(dir, "push-service-ca.pem");
      fs.writeFileSync(file, pems.cert);
      return file;
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A browser-like subscription to `service`. */
export function createPushSubscriber(service: PushService, options: { applicationServerKey?: string } = {}): PushSubscriber {
  const id = `sub${randomBytes(8).toString("hex")}`;
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  const endpoint = service.register(id, { ecdh, auth, ...options });
  const p256dh = ecdh.getPublicKey().toString("base64url");
  const authText = auth.toString("base64url");
  return {
    id,
    endpoint,
    p256dh,
    auth: authText,
    toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh, auth: authText } }),
    received: () => service.receivedFor(id),
  };
}

/**
 * RFC 8292: `Authorization: vapid t=<JWT>, k=<public key>`. Returns the verified claims; throws
 * 401 for a missing or unreadable header, 403 for a JWT that does not verify or claims that do
 * not hold.
 */
async function verifyVapid(
  authorization: string | undefined,
  audience: string,
  restrictedTo: string | undefined,
): Promise<{ vapidSubject: string; vapidAudience: string; vapidExpiresAt: number; vapidPublicKey: string }> {
  const scheme = /^vapid\s+(.+)$/i.exec(authorization ?? "");
  if (!scheme) throw new Refusal(401, "missing `Authorization: vapid t=…, k=…`");
  const params = new Map<string, string>();
  for (const part of scheme[1].split(",")) {
    const at = part.indexOf("=");
    if (at > 0) params.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const token = params.get("t");
  const k = params.get("k");
  if (!token || !k) throw new Refusal(401, "vapid authorization needs both t and k");
  let key: KeyObject;
  try {
    key = p256PublicKey(k);
  } catch {
    throw new Refusal(401, "k is not an uncompressed P-256 public key in base64url");
  }
  if (restrictedTo !== undefined && k !== restrictedTo) {
    throw new Refusal(403, "the subscription was made with another applicationServerKey");
  }
  let claims: { sub?: unknown; aud?: unknown; exp?: unknown };
  try {
    ({ payload: claims } = await jwtVerify(token, key, { algorithms: ["ES256"], audience, requiredClaims: ["exp", "sub", "aud"] }));
  } catch (err) {
    const what = err instanceof joseErrors.JOSEError ? `${err.code}: ${err.message}` : String(err);
    throw new Refusal(403, `VAPID JWT refused (${what})`);
  }
  const exp = claims.exp as number;
  if (exp > Math.floor(Date.now() / 1000) + MAX_EXPIRY_SECONDS) throw new Refusal(403, "VAPID JWT expires more than 24 hours ahead");
  if (typeof claims.sub !== "string" || !/^(mailto:|https:)/.test(claims.sub)) throw new Refusal(403, "VAPID sub must be a mailto: or https: contact");
  return { vapidSubject: claims.sub, vapidAudience: String(claims.aud), vapidExpiresAt: exp, vapidPublicKey: k };
}

function p256PublicKey(base64url: string): KeyObject {
  const bytes = Buffer.from(base64url, "base64url");
  if (bytes.length !== 65 || bytes[0] !== 0x04) throw new Error("not an uncompressed point");
  return createPublicKey({
    key: { kty: "EC", crv: "P-256", x: bytes.subarray(1, 33).toString("base64url"), y: bytes.subarray(33).toString("base64url") },
    format: "jwk",
  });
}

/**
 * RFC 8188 `aes128gcm` content coding with the RFC 8291 key derivation: the header (salt, record
 * size, the sender's public key as key id), then records of `rs` bytes, each AES-128-GCM with
 * its own nonce and a padding delimiter (2 on the last record, 1 before it).
 */
export function decryptAes128gcm(body: Buffer, receiver: ECDH, authSecret: Buffer): Buffer {
  if (body.length < 21) throw new Error("shorter than the aes128gcm header");
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20];
  if (idlen !== 65) throw new Error(`key id of ${idlen} bytes; Web Push puts the 65-byte sender key there`);
  if (rs < 18) throw new Error(`record size ${rs} is too small`);
  const senderPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  if (ciphertext.length === 0) throw new Error("no records");

  const sharedSecret = receiver.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([Buffer.from("WebPush: info\0", "latin1"), receiver.getPublicKey(), senderPublic]);
  const ikm = Buffer.from(hkdfSync("sha256", sharedSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: aes128gcm\0", "latin1"), 16));
  const baseNonce = Buffer.from(hkdfSync("sha256", ikm, salt, Buffer.from("Content-Encoding: nonce\0", "latin1"), 12));

  const parts: Buffer[] = [];
  for (let offset = 0, seq = 0; offset < ciphertext.length; offset += rs, seq += 1) {
    const record = ciphertext.subarray(offset, offset + rs);
    const last = offset + rs >= ciphertext.length;
    if (record.length <= 16) throw new Error(`record ${seq} is too short`);
    const nonce = Buffer.from(baseNonce);
    // The record sequence number, XORed into the low-order bytes of the nonce (RFC 8188 section 2.3).
    const low = nonce.readUInt32BE(8) ^ seq;
    nonce.writeUInt32BE(low >>> 0, 8);
    const decipher = createDecipheriv("aes-128-gcm", cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end -= 1;
    if (end < 0) throw new Error(`record ${seq} has no padding delimiter`);
    const delimiter = plain[end];
    if (delimiter !== (last ? 2 : 1)) throw new Error(`record ${seq} has delimiter ${delimiter}, expected ${last ? 2 : 1}`);
    parts.push(plain.subarray(0, end));
  }
  return Buffer.concat(parts);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
