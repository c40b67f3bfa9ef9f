import http from "node:http";
import type { AddressInfo } from "node:net";

/** One request a {@link WebhookReceiver} got. */
export interface Receipt {
  /** `webhook-id`, `webhook-timestamp`, `webhook-signature` and the rest, lower-case names. */
  headers: Record<string, string>;
  /** The raw body, exactly as sent (signatures are over these bytes). */
  body: string;
  /** `performance.now()` when the request arrived. */
  receivedAt: number;
  /** The status the receiver answered. */
  status: number;
}

/** What the receiver answers: a status, optionally with headers. */
export type ReceiverAnswer = number | { status: number; headers?: Record<string, string> };

/**
 * A real HTTP server on 127.0.0.1 and a free port that records every request. `answer` decides
 * the response from the request and the number of earlier requests with the same `webhook-id`.
 */
export interface WebhookReceiver {
  url: string;
  receipts: Receipt[];
  /** Replaces the answering rule. */
  answer(rule: (receipt: Omit<Receipt, "status">, previousWithSameId: number) => ReceiverAnswer): void;
  /** Receipts with this `webhook-id`. */
  byId(id: string): Receipt[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<WebhookReceiver> {
  const receipts: Receipt[] = [];
  let rule: (receipt: Omit<Receipt, "status">, previous: number) => ReceiverAnswer = () => 204;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
      const partial = { headers, body: Buffer.concat(chunks).toString("utf8"), receivedAt: performance.now() };
      const previous = receipts.filter((r) => r.headers["webhook-id"] === headers["webhook-id"]).length;
      const answer = rule(partial, previous);
      const { status, headers: extra } = typeof answer === "number" ? { status: answer, headers: {} } : answer;
      receipts.push({ ...partial, status });
      res.writeHead(status, { "content-type": "text/plain", ...extra });
      res.end(status >= 400 ? "no" : "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    receipts,
    answer(next) {
      rule = next;
    },
    byId: (id) => receipts.filter((r) => r.headers["webhook-id"] === id),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
