import { generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { generate } from "selfsigned";

/**
 * Local stand-ins for Apple's and Google's push services that speak their real protocols and
 * check what a real one checks:
 * - {@link startApnsServer}: HTTP/2 over TLS (self-signed), `POST /3/device/<token>`, an ES256
 *   provider JWT verified with the `.p8` key's public key (`kid`, `iss` = team id, `iat` younger
 *   than an hour), `apns-topic`, `apns-push-type`, `apns-priority`, `apns-expiration`;
 * - {@link startFcmServer}: the OAuth2 token endpoint (RFC 7523 JWT bearer grant, the assertion
 *   verified with the service account's public key, `aud` = token_uri, the FCM scope) issuing
 *   bearer tokens, and `POST /v1/projects/<id>/messages:send` accepting only those.
 * Either answers per device token from a script (`script(token, ...answers)`), 200 otherwise.
 */

/** A scripted answer: a status with Apple's / Google's error body, or one with headers. */
export type ScriptedAnswer = { status: number; reason?: string; headers?: Record<string, string> };

/** A push the APNs stand-in accepted or refused. */
export interface ApnsRequest {
  token: string;
  headers: Record<string, string>;
  payload: any;
  /** The provider token's `iat` (seconds). */
  iat: number;
  /** The HTTP/2 session it came on (1, 2, …): one session reused keeps this at 1. */
  session: number;
  status: number;
  reason?: string;
  at: number;
}

export interface ApnsServer {
  /** `https://127.0.0.1:<port>` (for APNS_BASE_URL). */
  url: string;
  /** The CA certificate (PEM) the client must trust. */
  ca: string;
  keyFile: string;
  keyId: string;
  teamId: string;
  topic: string;
  /** Every request in arrival order (accepted: status 200). */
  requests: ApnsRequest[];
  /** HTTP/2 sessions opened so far. */
  sessions(): number;
  script(token: string, ...answers: ScriptedAnswer[]): void;
  /** Writes the CA to a file in `dir` for NODE_EXTRA_CA_CERTS. */
  writeCaCert(dir: string): string;
  close(): Promise<void>;
}

async function selfSigned() {
  return generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }, { type: 2, value: "localhost" }] },
    ],
  });
}

/** Starts the APNs stand-in and writes its `.p8` key into `dir`. */
export async function startApnsServer(dir: string, options: { topic?: string } = {}): Promise<ApnsServer> {
  const pems = await selfSigned();
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const keyId = "KEY1234567";
  const teamId = "TEAM987654";
  const topic = options.topic ?? "com.example.chat";
  const keyFile = path.join(dir, `AuthKey_${keyId}.p8`);
  fs.writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  const requests: ApnsRequest[] = [];
  const scripts = new Map<string, ScriptedAnswer[]>();
  let sessions = 0;
  const live = new Set<http2.ServerHttp2Session>();

  const server = http2.createSecureServer({ key: pems.private, cert: pems.cert });
  server.on("session", (session) => {
    sessions += 1;
    (session as unknown as { n: number }).n = sessions;
    live.add(session);
    session.on("close", () => live.delete(session));
  });
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      void (async () => {
        const flat: Record<string, string> = {};
        for (const [k, v] of Object.entries(headers)) if (typeof v === "string") flat[k] = v;
        const token = (flat[":path"] ?? "").replace(/^\/3\/device\//, "");
        let payload: any;
        try {
          payload = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          payload = undefined;
        }
        const { status, reason, iat, extra } = await check(flat, payload, publicKey, { keyId, teamId, topic }, scripts.get(token)?.shift());
        requests.push({ token, headers: flat, payload, iat, session: (stream.session as unknown as { n: number }).n, status, ...(reason ? { reason } : {}), at: Date.now() });
        stream.respond({ ":status": status, ...(status === 200 ? { "apns-id": randomBytes(16).toString("hex") } : { "content-type": "application/json" }), ...extra });
        stream.end(status === 200 ? undefined : JSON.stringify(status === 410 ? { reason, timestamp: Date.now() } : { reason }));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    ca: pems.cert,
    keyFile,
    keyId,
    teamId,
    topic,
    requests,
    sessions: () => sessions,
    script(token, ...answers) {
      scripts.set(token, [...(scripts.get(token) ?? []), ...answers]);
    },
    writeCaCert(target) {
      const file = path.join(target, "apns-ca.pem");
      fs.writeFileSync(file, pems.cert);
      return file;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open client sessions would keep close() waiting.
        for (const session of live) session.destroy();
      }),
  };
}

/** What Apple checks, in Apple's words (reason strings of its documentation). */
async function check(
  h: Record<string, string>,
  payload: any,
  publicKey: KeyObject,
  expected: { keyId: string; teamId: string; topic: string },
  scripted: ScriptedAnswer | undefined,
): Promise<{ status: number; reason?: string; iat: number; extra: Record<string, string> }> {
  const fail = (status: number, reason: string, iat = 0) => ({ status, reason, iat, extra: {} });
  if (h[":method"] !== "POST" || !/^\/3\/device\/[0-9a-f]{64,}$/.test(h[":path"] ?? "")) return fail(400, "BadPath");
  const auth = /^bearer (.+)$/.exec(h.authorization ?? "");
  if (!auth) return fail(403, "MissingProviderToken");
  let iat = 0;
  try {
    if (decodeProtectedHeader(auth[1]).kid !== expected.keyId) return fail(403, "InvalidProviderToken");
    const { payload: claims } = await jwtVerify(auth[1], publicKey, { algorithms: ["ES256"], issuer: expected.teamId });
    iat = claims.iat ?? 0;
    if (!claims.iat || Date.now() / 1000 - claims.iat > 3600) return fail(403, "ExpiredProviderToken", iat);
  } catch {
    return fail(403, "InvalidProviderToken");
  }
  if (!h["apns-topic"]) return fail(400, "MissingTopic", iat);
  if (h["apns-topic"] !== expected.topic) return fail(400, "DeviceTokenNotForTopic", iat);
  const type = h["apns-push-type"];
  if (type !== "alert" && type !== "background") return fail(400, "InvalidPushType", iat);
  if (type === "background" && h["apns-priority"] !== "5") return fail(400, "BadPriority", iat);
  if (type === "alert" && h["apns-priority"] !== "10") return fail(400, "BadPriority", iat);
  if (!/^\d+$/.test(h["apns-expiration"] ?? "")) return fail(400, "BadExpirationDate", iat);
  if (h["apns-collapse-id"] !== undefined && Buffer.byteLength(h["apns-collapse-id"]) > 64) return fail(400, "BadCollapseId", iat);
  if (!payload?.aps) return fail(400, "PayloadEmpty", iat);
  if (type === "background" && payload.aps["content-available"] !== 1) return fail(400, "BadPayload", iat);
  if (scripted) return { status: scripted.status, ...(scripted.reason ? { reason: scripted.reason } : {}), iat, extra: scripted.headers ?? {} };
  return { status: 200, iat, extra: {} };
}

/** A message the FCM stand-in accepted or refused. */
export interface FcmRequest {
  token: string;
  message: any;
  status: number;
  at: number;
}

export interface FcmServer {
  /** `http://127.0.0.1:<port>` (for FCM_BASE_URL). */
  url: string;
  /** The service-account key file, whose `token_uri` points here. */
  keyFile: string;
  projectId: string;
  requests: FcmRequest[];
  /** Access tokens issued so far. */
  tokensIssued(): number;
  /** Token requests refused (a bad assertion). */
  tokenRefusals(): number;
  script(token: string, ...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

const FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging";

/** Starts the FCM stand-in and writes a service-account key file into `dir`. */
export async function startFcmServer(dir: string): Promise<FcmServer> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const projectId = "switchboard-test";
  const clientEmail = `firebase-adminsdk@${projectId}.iam.gserviceaccount.com`;
  const issued = new Set<string>();
  let refusals = 0;
  const requests: FcmRequest[] = [];
  const scripts = new Map<string, ScriptedAnswer[]>();
  let url = "";

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { "content-type": "application/json", ...headers });
          res.end(JSON.stringify(json));
        };
        if (req.method === "POST" && req.url === "/token") {
          const form = new URLSearchParams(body);
          try {
            if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") throw new Error("unsupported_grant_type");
            const { payload } = await jwtVerify(form.get("assertion") ?? "", publicKey, { algorithms: ["RS256"], issuer: clientEmail, audience: `${url}/token` });
            if (payload.scope !== FCM_SCOPE) throw new Error("invalid_scope");
            if (!payload.exp || payload.exp - (payload.iat ?? 0) > 3600) throw new Error("invalid_grant: lifetime");
          } catch (err) {
            refusals += 1;
            send(400, { error: "invalid_grant", error_description: (err as Error).message });
            return;
          }
          const token = `ya29.${randomBytes(24).toString("base64url")}`;
          issued.add(token);
          send(200, { access_token: token, expires_in: 3599, token_type: "Bearer" });
          return;
        }
        const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(req.url ?? "");
        if (req.method !== "POST" || !match) return send(404, { error: { code: 404, message: "Not found", status: "NOT_FOUND" } });
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
        if (!bearer || !issued.has(bearer)) return send(401, { error: { code: 401, message: "Request had invalid authentication credentials.", status: "UNAUTHENTICATED" } });
        if (match[1] !== projectId) return send(403, { error: { code: 403, message: "SenderId mismatch", status: "PERMISSION_DENIED" } });
        let message: any;
        try {
          message = (JSON.parse(body) as { message: unknown }).message;
        } catch {
          return send(400, { error: { code: 400, message: "Invalid JSON payload", status: "INVALID_ARGUMENT" } });
        }
        const token = String(message?.token ?? "");
        const scripted = scripts.get(token)?.shift();
        const status = scripted?.status ?? 200;
        requests.push({ token, message, status, at: Date.now() });
        if (!scripted) return send(200, { name: `projects/${projectId}/messages/${randomBytes(8).toString("hex")}` });
        const errorCode = scripted.reason ?? (status === 429 ? "QUOTA_EXCEEDED" : status >= 500 ? "UNAVAILABLE" : "INVALID_ARGUMENT");
        send(
          status,
          { error: { code: status, message: errorCode === "UNREGISTERED" ? "Requested entity was not found." : errorCode, status: status === 404 ? "NOT_FOUND" : errorCode, details: [{ "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", errorCode }] } },
          scripted.headers ?? {},
        );
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keyFile = path.join(dir, "service-account.json");
  fs.writeFileSync(
    keyFile,
    JSON.stringify({
      type: "service_account",
      project_id: projectId,
      private_key_id: randomBytes(20).toString("hex"),
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }),
      client_email: clientEmail,
      token_uri: `${url}/token`,
    }),
  );
  return {
    url,
    keyFile,
    projectId,
    requests,
    tokensIssued: () => issued.size,
    tokenRefusals: () => refusals,
    script(token, ...answers) {
      scripts.set(token, [...(scripts.get(token) ?? []), ...answers]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A message the Expo stand-in answered. */
export interface ExpoRequest {
  to: string;
  message: any;
  /** The ticket's status, or the HTTP status of a refused request. */
  outcome: "ok" | "error" | number;
  at: number;
}

export interface ExpoServer {
  /** `http://127.0.0.1:<port>` (for EXPO_BASE_URL). */
  url: string;
  /** The access token it requires (EXPO_ACCESS_TOKEN). */
  accessToken: string;
  requests: ExpoRequest[];
  /** `{ status: 200, reason: "DeviceNotRegistered" }` answers an error ticket; another status refuses the request. */
  script(token: string, ...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

/**
 * Expo's push API (`POST /--/api/v2/push/send`, an array of messages in, one ticket per message
 * out), with enhanced push security on: a request without the access token is refused.
 */
export async function startExpoServer(): Promise<ExpoServer> {
  const accessToken = `expo-${randomBytes(16).toString("hex")}`;
  const requests: ExpoRequest[] = [];
  const scripts = new Map<string, ScriptedAnswer[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(json));
      };
      if (req.method !== "POST" || req.url !== "/--/api/v2/push/send") return send(404, { errors: [{ code: "NOT_FOUND", message: "Not found" }] });
      if (req.headers.authorization !== `Bearer ${accessToken}`) return send(401, { errors: [{ code: "UNAUTHORIZED", message: "The bearer token is invalid." }] });
      let messages: any[];
      try {
        messages = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (!Array.isArray(messages)) throw new Error("not an array");
      } catch {
        return send(400, { errors: [{ code: "VALIDATION_ERROR", message: "body must be a JSON array of messages" }] });
      }
      const tickets = [];
      for (const message of messages) {
        const to = String(message?.to ?? "");
        const scripted = scripts.get(to)?.shift();
        if (scripted && scripted.status !== 200) {
          requests.push({ to, message, outcome: scripted.status, at: Date.now() });
          return send(scripted.status, { errors: [{ code: "TOO_MANY_REQUESTS", message: "rate limited" }] }, scripted.headers ?? {});
        }
        if (!/^Expo(nent)?PushToken\[.+\]$/.test(to)) {
          tickets.push({ status: "error", message: `"${to}" is not a valid Expo push token`, details: { error: "DeviceNotRegistered" } });
          requests.push({ to, message, outcome: "error", at: Date.now() });
        } else if (scripted?.reason) {
          tickets.push({ status: "error", message: `"${to}" is not a registered push notification recipient`, details: { error: scripted.reason } });
          requests.push({ to, message, outcome: "error", at: Date.now() });
        } else {
          tickets.push({ status: "ok", id: randomBytes(8).toString("hex") });
          requests.push({ to, message, outcome: "ok", at: Date.now() });
        }
      }
      send(200, { data: tickets });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accessToken,
    requests,
    script(token, ...answers) {
      scripts.set(token, [...(scripts.get(token) ?? []), ...answers]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
