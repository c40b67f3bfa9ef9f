/**
 * The benchmark's pre-send hook: a customer's moderation endpoint reduced to what every real
 * one does, verifying the Standard Webhooks signature with the official `standardwebhooks`
 * package, then answering `{ "action": "allow" }`. A call whose signature does not verify is
 * answered 401, which Switchboard counts as a failed call (so the run would show it).
 *
 * Env: `PORT` (0 = any), `HOOK_SECRET` (`whsec_…`, the `PRESEND_HOOK_SECRET` of the servers).
 * Prints one JSON line `{"msg":"hook listening","port":…}`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

const port = Number(process.env.PORT ?? 0);
const secret = process.env.HOOK_SECRET;
if (!secret) {
  process.stderr.write("hook-server: HOOK_SECRET is required\n");
  process.exit(2);
}
const webhook = new Webhook(secret);
const ALLOW = JSON.stringify({ action: "allow" });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    try {
      webhook.verify(Buffer.concat(chunks).toString("utf8"), req.headers as Record<string, string>);
    } catch {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(ALLOW) }).end(ALLOW);
  });
});
// Longer than undici's 4 s client-side keep-alive, so the client always closes first.
server.keepAliveTimeout = 10_000;

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ msg: "hook listening", port: (server.address() as AddressInfo).port })}\n`);
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
