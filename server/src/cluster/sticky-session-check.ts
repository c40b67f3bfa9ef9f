import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { Server } from "socket.io";
import type { Logger } from "../logger.js";

/** At most one warning per this many milliseconds: a misconfigured balancer produces thousands. */
const WARN_EVERY_MS = 60_000;

/**
 * Long-polling keeps a session on the node that opened it; a load balancer without sticky
 * sessions sends the next poll elsewhere, and Engine.IO only answers "Session ID unknown".
 * This puts the reason and the fix into that answer and into the log.
 *
 * WebSocket-only clients (the SDK's default) never hit this: one connection, one node.
 */
export function explainUnknownSessions(io: Server, nodeId: string, logger: Logger): void {
  const httpServer = io.httpServer as HttpServer;
  const path = `${io.path().replace(/\/$/, "")}/`;
  const explanation =
    `Session ID unknown on node ${nodeId}. The long-polling transport needs sticky sessions at the load balancer ` +
    "(for example nginx ip_hash, or HAProxy cookie stickiness), because each poll must reach the node that opened the session. " +
    'Either enable stickiness or connect with transports: ["websocket"] (the Switchboard SDK default), or set ALLOW_POLLING=0.';
  let lastWarning = 0;
  // Engine.IO keeps open sessions in `clients`, typed protected but stable since engine.io 3.
  const sessions = () => (io.engine as unknown as { clients: Record<string, unknown> }).clients;

  // Engine.IO replaced the server's request listeners with its own when Socket.IO attached;
  // ours goes in front of them and passes everything it does not answer through.
  const listeners = httpServer.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  httpServer.removeAllListeners("request");
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? "";
    if (url.startsWith(path)) {
      const sid = new URL(url, "http://localhost").searchParams.get("sid");
      if (sid && !(sid in sessions())) {
        if (Date.now() - lastWarning > WARN_EVERY_MS) {
          lastWarning = Date.now();
          logger.warn({ nodeId, sid }, explanation);
        }
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ code: 1, message: "Session ID unknown", explanation }));
        return;
      }
    }
    for (const listener of listeners) listener.call(httpServer, req, res);
  });
}
