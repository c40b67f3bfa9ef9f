import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listDevices, registerDevice, SwitchboardClientError, unregisterDevice } from "../client-sdk/src/index.js";
import { api, mintToken, startServer, type TestServer } from "./support/harness.js";

/** The SDK's device registration against a real server: what a React Native app calls. */

const IPHONE = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d";

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
  await api(server.url, "POST", "/v1/users", { id: "dana", name: "Dana" });
});
afterAll(async () => {
  await server.close();
});

describe("SDK mobile push registration", () => {
  it("registers, lists and unregisters the app's device token with the user's token", async () => {
    const options = { serverUrl: server.url, getToken: () => mintToken("dana") };
    const device = await registerDevice(options, { platform: "ios", token: IPHONE, appId: "com.example.chat" });
    expect(device).toMatchObject({ platform: "ios", token: IPHONE, appId: "com.example.chat" });
    expect(device.id).toMatch(/^dev_/);
    // Registering again (every app start) keeps one record.
    const again = await registerDevice(options, { platform: "ios", token: IPHONE, appId: "com.example.chat" });
    expect(again.id).toBe(device.id);
    expect((await listDevices(options)).map((d) => d.token)).toEqual([IPHONE]);
    expect(await unregisterDevice(options, IPHONE)).toEqual({ status: "unregistered" });
    expect(await unregisterDevice(options, IPHONE)).toEqual({ status: "not_registered" });
    expect(await listDevices(options)).toEqual([]);
  });

  it("unregisters an Expo push token, whose brackets travel encoded in the path", async () => {
    const options = { serverUrl: server.url, getToken: () => mintToken("dana") };
    const token = "ExponentPushToken[AbC-123_xyz]";
    expect(await registerDevice(options, { platform: "expo", token })).toMatchObject({ platform: "expo", token });
    expect(await unregisterDevice(options, token)).toEqual({ status: "unregistered" });
    expect(await listDevices(options)).toEqual([]);
  });

  it("rejects a malformed token with invalid_argument and a bad user token with unauthorized", async () => {
    const bad = registerDevice({ serverUrl: server.url, getToken: () => mintToken("dana") }, { platform: "android", token: "has spaces" });
    await expect(bad).rejects.toBeInstanceOf(SwitchboardClientError);
    await expect(bad).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(listDevices({ serverUrl: server.url, getToken: () => "not-a-jwt" })).rejects.toMatchObject({ code: "unauthorized" });
  });
});
