import { io as ioClient } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken, startServer, type TestServer } from "./support/harness.js";

/** Connects over WebSocket only, sending `origin` as a browser would; resolves with what happened. */
async function connectFrom(url: string, origin: string | undefined): Promise<"connected" | string> {
  const socket = ioClient(url, {
    auth: { token: await mintToken("browser-user") },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    ...(origin ? { extraHeaders: { origin } } : {}),
  });
  try {
    return await new Promise((resolve) => {
      socket.once("connect", () => resolve("connected"));
      socket.once("connect_error", (err) => resolve(err.message));
    });
  } finally {
    socket.close();
  }
}

/** The long-polling handshake, the other way in, with an Origin header. */
async function pollFrom(url: string, origin: string): Promise<number> {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
  await res.body?.cancel();
  return res.status;
}

describe("browser origins", () => {
  describe("by default only the server's own origin", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer();
    });
    afterAll(() => server.close());

    it("refuses a WebSocket upgrade from a foreign origin and accepts the server's own", async () => {
      expect(await connectFrom(server.url, "https://evil.example")).not.toBe("connected");
      expect(await connectFrom(server.url, server.url)).toBe("connected");
    });

    it("accepts clients that send no Origin (servers, mobile apps): their token protects them", async () => {
      expect(await connectFrom(server.url, undefined)).toBe("connected");
    });

    it("refuses the long-polling handshake from a foreign origin", async () => {
      expect(await pollFrom(server.url, "https://evil.example")).toBe(403);
      expect(await pollFrom(server.url, server.url)).toBe(200);
    });
  });

  describe("with ALLOWED_ORIGINS", () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ env: { ALLOWED_ORIGINS: "https://app.example.com, https://admin.example.com" } });
    });
    afterAll(() => server.close());

    it("accepts exactly the listed origins", async () => {
      expect(await connectFrom(server.url, "https://app.example.com")).toBe("connected");
      expect(await connectFrom(server.url, "https://admin.example.com")).toBe("connected");
      expect(await connectFrom(server.url, "https://app.example.com.evil.example")).not.toBe("connected");
      expect(await connectFrom(server.url, server.url)).not.toBe("connected");
    });
  });
});
