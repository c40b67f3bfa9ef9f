import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeviceRecord, DeviceStore } from "../server/src/delivery/mobile/device-store.js";

/** What a driver's test file hands the contract for each test: a fresh, initialised, empty store. */
export interface DeviceStoreHarness {
  store: DeviceStore;
  /** Closes what the harness opened and deletes the data. */
  cleanup: () => Promise<void>;
}

let counter = 0;
function device(extra: Partial<DeviceRecord> = {}): DeviceRecord {
  counter += 1;
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, counter)).toISOString();
  return { id: `dev_${counter.toString(16).padStart(8, "0")}`, userId: "u_ada", platform: "ios", token: `token-${counter}`, createdAt: at, updatedAt: at, ...extra };
}

/** The behaviour every {@link DeviceStore} driver must show. */
export function runDeviceStoreContract(name: string, factory: () => Promise<DeviceStoreHarness>): void {
  describe(`${name} device store contract`, () => {
    let harness: DeviceStoreHarness;
    let store: DeviceStore;
    beforeEach(async () => {
      harness = await factory();
      store = harness.store;
    });
    afterEach(async () => {
      await harness.cleanup();
    });

    it("stores a device and lists the user's devices oldest first, by platform when asked", async () => {
      const phone = await store.saveDevice(device({ appId: "com.example.chat" }));
      const tablet = await store.saveDevice(device({ platform: "android" }));
      await store.saveDevice(device({ userId: "u_bob" }));
      expect(phone).toMatchObject({ userId: "u_ada", platform: "ios", appId: "com.example.chat" });
      expect((await store.listDevices("u_ada")).map((d) => d.id)).toEqual([phone.id, tablet.id]);
      expect((await store.listDevices("u_ada", "android")).map((d) => d.id)).toEqual([tablet.id]);
      expect(await store.listDevices("u_nobody")).toEqual([]);
    });

    it("moves a known token to its new owner, keeping its id and creation time", async () => {
      const first = await store.saveDevice(device({ token: "shared", appId: "com.example.chat" }));
      await store.setBadge("ios", "shared", 4);
      expect((await store.listDevices("u_ada"))[0].badge).toBe(4);
      const moved = await store.saveDevice(device({ token: "shared", userId: "u_bob", updatedAt: "2026-02-01T00:00:00.000Z" }));
      expect(moved.id).toBe(first.id);
      expect(moved.createdAt).toBe(first.createdAt);
      expect(moved.updatedAt).toBe("2026-02-01T00:00:00.000Z");
      expect(moved.userId).toBe("u_bob");
      expect(moved.appId).toBeUndefined();
      // The badge was the old owner's unread count.
      expect(moved.badge).toBeUndefined();
      expect(await store.listDevices("u_ada")).toEqual([]);
    });

    it("keeps the same token on two platforms apart", async () => {
      await store.saveDevice(device({ token: "same", platform: "ios" }));
      await store.saveDevice(device({ token: "same", platform: "android" }));
      expect(await store.listDevices("u_ada")).toHaveLength(2);
      expect(await store.deleteDeviceByToken("android", "same")).toBe(true);
      expect((await store.listDevices("u_ada")).map((d) => d.platform)).toEqual(["ios"]);
    });

    it("removes a device only for its owner, and by token for anyone", async () => {
      await store.saveDevice(device({ token: "mine" }));
      expect(await store.deleteDevice("u_bob", "mine")).toBe(false);
      expect(await store.deleteDevice("u_ada", "mine")).toBe(true);
      expect(await store.deleteDevice("u_ada", "mine")).toBe(false);
      await store.saveDevice(device({ token: "gone" }));
      expect(await store.deleteDeviceByToken("ios", "gone")).toBe(true);
      expect(await store.deleteDeviceByToken("ios", "gone")).toBe(false);
      expect(await store.listDevices("u_ada")).toEqual([]);
    });

    it("records the badge last sent to a device", async () => {
      await store.saveDevice(device({ token: "badged" }));
      await store.setBadge("ios", "badged", 7);
      expect((await store.listDevices("u_ada"))[0].badge).toBe(7);
      await store.setBadge("ios", "badged", 0);
      expect((await store.listDevices("u_ada"))[0].badge).toBe(0);
      // Registering again on the same account keeps it.
      await store.saveDevice(device({ token: "badged" }));
      expect((await store.listDevices("u_ada"))[0].badge).toBe(0);
    });
  });
}
