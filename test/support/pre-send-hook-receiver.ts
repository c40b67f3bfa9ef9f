import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** The body of a pre-send hook call. */
export interface PreSendCall {
  type: string;
  timestamp: string;
  data: {
    conversationId: string;
    senderId: string;
    clientMessageId?: string;
    text: string;
    attachments: unknown[];
    replyTo?: string;
    threadId?: string;
    /** On an edit: the message being edited. */
    messageId?: string;
  };
}

/** One request the receiver got. */
export interface HookReceipt {
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The raw body, exactly as sent (the signature is over these bytes). */
  body: string;
  /** The payload as `standardwebhooks` verified it with the receiver's secret, or undefined when it did not verify. */
  verified?: PreSendCall;
  /** Why verification failed. */
  verifyError?: string;
}

/**
 * What the receiver answers: a status with a JSON (or raw) body and headers, or `"hang"`: no
 * answer until the test releases it or the receiver closes (a hook slower than any timeout).
 */
export type HookAnswer = { status: number; json?: unknown; raw?: string; headers?: Record<string, string> } | "hang";

/**
 * A real HTTP server on 127.0.0.1 and a free port standing in for a customer's moderation
 * endpoint: it verifies every call's Standard Webhooks signature with the official
 * `standardwebhooks` package, records it, and answers as the test scripts it.
 */
export interface HookReceiver {
  url: string;
  receipts: HookReceipt[];
  /** Replaces the answering rule; `n` counts calls from 0. Default: `{ action: "allow" }`. */
  answer(rule: (call: PreSendCall, n: number) => HookAnswer): void;
  /** Answers every call left hanging (with a 200 allow nobody reads any more). */
  releaseHung(): void;
  /** Requests to paths other than the hook's (a redirect's target, for instance). */
  strayRequests: string[];
  close(): Promise<void>;
}

/** The hook's path on the receiver. */
const HOOK_PATH = "/moderation/pre-send";

export async function startHookReceiver(secret: string): Promise<HookReceiver> {
  const receipts: HookReceipt[] = [];
  const strayRequests: string[] = [];
  const hung = new Set<http.ServerResponse>();
  let rule: (call: PreSendCall, n: number) => HookAnswer = () => ({ status: 200, json: { action: "allow" } });
  const webhook = new Webhook(secret);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (!req.url?.startsWith(HOOK_PATH)) {
        strayRequests.push(`${req.method} ${req.url}`);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ action: "allow" }));
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
      const body = Buffer.concat(chunks).toString("utf8");
      const receipt: HookReceipt = { headers, body };
      try {
        receipt.verified = webhook.verify(body, headers) as PreSendCall;
      } catch (err) {
        receipt.verifyError = (err as Error).message;
      }
      const n = receipts.length;
      receipts.push(receipt);
      if (!receipt.verified) {
        res.writeHead(401, { "content-type": "text/plain" }).end("bad signature");
        return;
      }
      const answer = rule(receipt.verified, n);
      if (answer === "hang") {
        hung.add(res);
        res.once("close", () => hung.delete(res));
        return;
      }
      const text = answer.raw ?? (answer.json === undefined ? "" : JSON.stringify(answer.json));
      res.writeHead(answer.status, { ...(text ? { "content-type": "application/json" } : {}), ...answer.headers });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${HOOK_PATH}`,
    receipts,
    strayRequests,
    answer(next) {
      rule = next;
    },
    releaseHung() {
      for (const res of hung) res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ action: "allow" }));
      hung.clear();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
