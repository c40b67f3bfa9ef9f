import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../server/src/config.js";
import { tempDir } from "./support/harness.js";

/** Mobile push configuration: read and checked at start, with messages naming the variable. */

const dir = tempDir("switchboard-mobile-config-");
afterAll(() => dir.remove());

const ecKey = path.join(dir.dir, "AuthKey_KEY1234567.p8");
fs.writeFileSync(ecKey, generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string);
const rsaPem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const rsaKey = path.join(dir.dir, "rsa.pem");
fs.writeFileSync(rsaKey, rsaPem);
const serviceAccount = (fields: Record<string, unknown>) => {
  const file = path.join(dir.dir, `sa-${Object.keys(fields).join("-")}.json`);
  fs.writeFileSync(file, JSON.stringify(fields));
  return file;
};
const APNS = { APNS_KEY_FILE: ecKey, APNS_KEY_ID: "KEY1234567", APNS_TEAM_ID: "TEAM987654", APNS_TOPIC: "com.example.chat" };

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("loadConfig accepted the environment");
}

describe("mobile push configuration", () => {
  it("leaves both providers off while their variables are unset", () => {
    const config = loadConfig({});
    expect(config.delivery.mobile).toEqual({ maxDevicesPerUser: 10 });
  });

  it("turns APNs on with the key, its id, the team and the topic, on Apple's production host by default", () => {
    const { apns } = loadConfig(APNS).delivery.mobile;
    expect(apns).toMatchObject({ keyId: "KEY1234567", teamId: "TEAM987654", topic: "com.example.chat", env: "production", baseUrl: "https://api.push.apple.com" });
    expect(loadConfig({ ...APNS, APNS_ENV: "sandbox" }).delivery.mobile.apns?.baseUrl).toBe("https://api.sandbox.push.apple.com");
  });

  it("names every missing APNs variable when only some are set", () => {
    const message = configError({ APNS_KEY_FILE: ecKey });
    for (const name of ["APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC"]) expect(message).toContain(name);
  });

  it("refuses an APNs key file that cannot be read or is not a P-256 key", () => {
    expect(configError({ ...APNS, APNS_KEY_FILE: path.join(dir.dir, "missing.p8") })).toMatch(/APNS_KEY_FILE: cannot read .*ENOENT/);
    expect(configError({ ...APNS, APNS_KEY_FILE: rsaKey })).toMatch(/APNS_KEY_FILE: is not a P-256/);
    expect(configError({ ...APNS, APNS_KEY_ID: "short" })).toMatch(/APNS_KEY_ID: must be the 10-character key id/);
  });

  it("turns Expo push on only with EXPO_PUSH, and refuses its other variables without it", () => {
    expect(loadConfig({ EXPO_PUSH: "1" }).delivery.mobile.expo).toEqual({ baseUrl: "https://exp.host" });
    expect(configError({ EXPO_ACCESS_TOKEN: "0123456789abcdef0123" })).toMatch(/EXPO_PUSH: set EXPO_PUSH=1 to use EXPO_ACCESS_TOKEN/);
  });

  it("reads the FCM service account and points the token exchange at its token_uri", () => {
    const file = serviceAccount({ type: "service_account", project_id: "demo-app", client_email: "fcm@demo-app.iam.gserviceaccount.com", private_key: rsaPem, private_key_id: "abc" });
    const { fcm } = loadConfig({ FCM_SERVICE_ACCOUNT_FILE: file }).delivery.mobile;
    expect(fcm?.serviceAccount).toMatchObject({ projectId: "demo-app", clientEmail: "fcm@demo-app.iam.gserviceaccount.com", privateKeyId: "abc", tokenUri: "https://oauth2.googleapis.com/token" });
    expect(fcm?.baseUrl).toBe("https://fcm.googleapis.com");
  });

  it("refuses a service-account file that is not JSON, lacks a field or holds no RSA key", () => {
    const notJson = path.join(dir.dir, "not.json");
    fs.writeFileSync(notJson, "nope");
    expect(configError({ FCM_SERVICE_ACCOUNT_FILE: notJson })).toMatch(/FCM_SERVICE_ACCOUNT_FILE: is not JSON/);
    expect(configError({ FCM_SERVICE_ACCOUNT_FILE: serviceAccount({ project_id: "p", private_key: rsaPem }) })).toMatch(/has no client_email/);
    const ecPem = fs.readFileSync(ecKey, "utf8");
    expect(configError({ FCM_SERVICE_ACCOUNT_FILE: serviceAccount({ project_id: "p", client_email: "e@p", private_key: ecPem }) })).toMatch(/not an RSA key/);
    expect(configError({ FCM_BASE_URL: "http://127.0.0.1:1" })).toMatch(/FCM_SERVICE_ACCOUNT_FILE: required with FCM_BASE_URL/);
  });
});
