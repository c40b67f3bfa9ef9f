import { createHmac, createSecretKey } from "node:crypto";
import { jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { TokenService, type TokenConfig } from "../server/src/auth/token-service.js";
import { SwitchboardError } from "../server/src/core/errors.js";

const SECRET = "token-service-test-secret-0123456789abcdef";
const CONFIG: TokenConfig = { secret: SECRET, issuer: "https://issuer.test", audience: "switchboard-test", clockToleranceSeconds: 5, maxTtlSeconds: 86400 };
const key = createSecretKey(Buffer.from(SECRET, "utf8"));
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

/** A token over exactly this header and payload, signed with `secret` (default: the server's). */
function sign(header: object, payload: object, secret = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

const claims = (extra: object = {}) => ({ sub: "u1", iss: CONFIG.issuer, aud: CONFIG.audience, exp: now() + 600, ...extra });
const HS = { alg: "HS256", typ: "JWT" };

/**
 * HS256 tokens are checked with node:crypto, not jose's WebCrypto path (about 100 µs of CPU per
 * handshake less). What it accepts must be exactly what jose's `jwtVerify` accepts.
 */
describe("TokenService HS256 verification", () => {
  const tokens = new TokenService(CONFIG);
  const cases: Record<string, string> = {
    valid: sign(HS, claims()),
    "valid, minted by jose": "",
    "valid, within the clock tolerance after exp": sign(HS, claims({ exp: now() - 2 })),
    "expired beyond the tolerance": sign(HS, claims({ exp: now() - 60 })),
    "not yet valid (nbf)": sign(HS, claims({ nbf: now() + 60 })),
    "iat slightly in the future": sign(HS, claims({ iat: now() + 3 })),
    "wrong issuer": sign(HS, claims({ iss: "https://other.test" })),
    "wrong audience": sign(HS, claims({ aud: "other" })),
    "audience list containing ours": sign(HS, claims({ aud: ["other", CONFIG.audience] })),
    "no exp": sign(HS, { sub: "u1", iss: CONFIG.issuer, aud: CONFIG.audience }),
    "no sub": sign(HS, { iss: CONFIG.issuer, aud: CONFIG.audience, exp: now() + 600 }),
    "exp not a number": sign(HS, claims({ exp: "soon" })),
    "wrong key": sign(HS, claims(), "another-secret-another-secret-another-secret"),
    "payload swapped under a valid signature": "",
    "signature truncated": sign(HS, claims()).slice(0, -4),
    "signature empty": sign(HS, claims()).replace(/\.[^.]*$/, "."),
    "crit header": sign({ ...HS, crit: ["exp"] }, claims()),
    "b64 false": sign({ ...HS, b64: false, crit: ["b64"] }, claims()),
    "payload not JSON": (() => {
      const input = `${b64(HS)}.${Buffer.from("not json").toString("base64url")}`;
      return `${input}.${createHmac("sha256", SECRET).update(input).digest("base64url")}`;
    })(),
    "payload a JSON array": (() => {
      const input = `${b64(HS)}.${Buffer.from("[1]").toString("base64url")}`;
      return `${input}.${createHmac("sha256", SECRET).update(input).digest("base64url")}`;
    })(),
    "four segments": `${sign(HS, claims())}.x`,
  };

  it("accepts and refuses exactly the tokens jose's jwtVerify does", async () => {
    cases["valid, minted by jose"] = await new SignJWT({ role: "agent", name: "Ada" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("u2")
      .setIssuer(CONFIG.issuer!)
      .setAudience(CONFIG.audience!)
      .setExpirationTime("10m")
      .sign(key);
    const [h, , s] = cases.valid.split(".");
    cases["payload swapped under a valid signature"] = `${h}.${b64(claims({ sub: "admin" }))}.${s}`;

    const outcomes: boolean[] = [];
    const options = { issuer: CONFIG.issuer, audience: CONFIG.audience, clockTolerance: 5, requiredClaims: ["sub", "exp"], algorithms: ["HS256"] };
    for (const [name, token] of Object.entries(cases)) {
      const jose = await jwtVerify(token, key, options).then(
        () => true,
        () => false,
      );
      const ours = await tokens.verify(token).then(
        () => true,
        (err: unknown) => {
          expect(err, name).toBeInstanceOf(SwitchboardError);
          expect((err as SwitchboardError).code, name).toBe("unauthorized");
          return false;
        },
      );
      expect(ours, name).toBe(jose);
      outcomes.push(ours);
    }
    // Both kinds are among the cases: five accepted, the rest refused.
    expect(outcomes.filter(Boolean)).toHaveLength(5);
    expect(await tokens.verify(cases["valid, minted by jose"])).toMatchObject({ userId: "u2", role: "agent", name: "Ada" });
  });

  it("says what was wrong, as before", async () => {
    await expect(tokens.verify(cases["expired beyond the tolerance"])).rejects.toThrow(/expired/);
    await expect(tokens.verify(cases["wrong key"])).rejects.toThrow(/signature is invalid/);
    await expect(tokens.verify(cases["wrong audience"])).rejects.toThrow(/`aud`/);
    await expect(tokens.verify(cases["no sub"])).rejects.toThrow(/`sub`/);
  });
});
