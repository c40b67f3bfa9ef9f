import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectUser, expectConnectError, mintToken, startServer, type TestServer } from "./support/harness.js";

async function sign(key: CryptoKey, alg: string, sub: string, kid?: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg, ...(kid ? { kid } : {}) })
    .setSubject(sub)
    .setIssuer("https://idp.example")
    .setExpirationTime("10m")
    .sign(key);
}

describe("asymmetric user tokens", () => {
  describe("with JWT_PUBLIC_KEY (ES256)", () => {
    let server: TestServer;
    let privateKey: CryptoKey;
    let pem: string;
    beforeAll(async () => {
      const pair = await generateKeyPair("ES256", { extractable: true });
      privateKey = pair.privateKey;
      pem = await exportSPKI(pair.publicKey);
      server = await startServer({ env: { JWT_PUBLIC_KEY: pem, JWT_ISSUER: "https://idp.example" } });
    });
    afterAll(() => server.close());

    it("accepts a token signed with the matching private key", async () => {
      const socket = await connectUser(server.url, "es-user", { token: await sign(privateKey, "ES256", "es-user") });
      expect(socket.connected).toBe(true);
      socket.close();
    });

    it("refuses a token signed by another key, and an HS256 token keyed with the public key itself", async () => {
      const other = await generateKeyPair("ES256");
      expect((await expectConnectError(server.url, { token: await sign(other.privateKey, "ES256", "x") })).data?.code).toBe("unauthorized");
      // The classic algorithm-confusion attack: HMAC keyed with the (public) PEM.
      const confused = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("x").setIssuer("https://idp.example").setExpirationTime("10m").sign(new TextEncoder().encode(pem));
      expect((await expectConnectError(server.url, { token: confused })).data?.code).toBe("unauthorized");
    });

    it("still accepts tokens it minted itself, which carry the configured issuer", async () => {
      const token = await mintToken("own-user", { issuer: "https://idp.example" });
      const socket = await connectUser(server.url, "own-user", { token });
      expect(socket.connected).toBe(true);
      socket.close();
      expect((await expectConnectError(server.url, { token: await mintToken("own-user") })).data?.message).toMatch(/iss/);
    });
  });

  describe("with JWT_JWKS_URL (RS256 and EdDSA keys)", () => {
    let server: TestServer;
    let jwks: http.Server;
    let rsa: CryptoKey;
    let ed: CryptoKey;
    beforeAll(async () => {
      const rsaPair = await generateKeyPair("RS256", { extractable: true });
      const edPair = await generateKeyPair("EdDSA", { extractable: true });
      rsa = rsaPair.privateKey;
      ed = edPair.privateKey;
      const keys = [
        { ...(await exportJWK(rsaPair.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
        { ...(await exportJWK(edPair.publicKey)), kid: "ed-1", alg: "EdDSA", use: "sig" },
      ];
      jwks = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys })));
      await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
      server = await startServer({ env: { JWT_JWKS_URL: url, JWT_ISSUER: "https://idp.example" } });
    });
    afterAll(async () => {
      await server.close();
      await new Promise((resolve) => jwks.close(resolve));
    });

    it("accepts RS256 and EdDSA tokens whose kid is in the JWKS and refuses an unknown kid", async () => {
      for (const [key, alg, kid] of [[rsa, "RS256", "rsa-1"], [ed, "EdDSA", "ed-1"]] as const) {
        const socket = await connectUser(server.url, `${alg}-user`, { token: await sign(key, alg, `${alg}-user`, kid) });
        expect(socket.connected).toBe(true);
        socket.close();
      }
      const unknown = await expectConnectError(server.url, { token: await sign(rsa, "RS256", "x", "rsa-9") });
      expect(unknown.data?.code).toBe("unauthorized");
    });
  });
});
