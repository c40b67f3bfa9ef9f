/**
 * Persistence of the native mobile push devices: one record per device token, owned by one user,
 * for one platform and (optionally) one app. An interface here, drivers beside it
 * (`sqlite-device-store.ts`, `mongo-device-store.ts`); the composition root picks one next to the
 * main store and hands it the same database.
 */

/**
 * What kind of token a device has; it decides the channel: `ios` → APNs, `android` → FCM,
 * `expo` → Expo's push service (an `ExponentPushToken[…]` of an app built with Expo, either OS).
 */
export type DevicePlatform = "ios" | "android" | "expo";

/** Every {@link DevicePlatform}. */
export const DEVICE_PLATFORMS = ["ios", "android", "expo"] as const satisfies readonly DevicePlatform[];

/** One device of one user that receives native push notifications. */
export interface DeviceRecord {
  /** `dev_<hex>`. */
  id: string;
  userId: string;
  platform: DevicePlatform;
  /**
   * The APNs device token (hex) or the FCM registration token. Unique per platform: registering
   * a known token again moves it to the new user (the phone changed hands or accounts).
   */
  token: string;
  /** The app it belongs to: the iOS bundle id (used as `apns-topic`) or the Android package name. */
  appId?: string;
  /** The badge last shown on the device (the unread count it was sent), so a read only updates what changed. */
  badge?: number;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601: the last registration. */
  updatedAt: string;
}

/**
 * The mobile devices' persistence.
 *
 * Contract (shown for every driver by `test/device-store-contract.ts`):
 * - at most one record per (platform, token); saving a known one replaces owner, app and
 *   `updatedAt` and keeps `id` and `createdAt`;
 * - lists are oldest first.
 * Errors are thrown as `SwitchboardError` (`unavailable`).
 */
export interface DeviceStore {
  /** Creates tables, collections and indexes; idempotent. */
  init(): Promise<void>;
  /** Adds the device, or moves a known (platform, token) to its new owner. Returns what is stored. */
  saveDevice(device: DeviceRecord): Promise<DeviceRecord>;
  /** The user's devices, oldest first; only those of `platform` when given. */
  listDevices(userId: string, platform?: DevicePlatform): Promise<DeviceRecord[]>;
  /** Removes the user's device with this token (any platform); false when there was none. */
  deleteDevice(userId: string, token: string): Promise<boolean>;
  /** Removes the token whoever owns it (the push service said it is invalid). */
  deleteDeviceByToken(platform: DevicePlatform, token: string): Promise<boolean>;
  /** Records the badge last sent to the device. */
  setBadge(platform: DevicePlatform, token: string, badge: number): Promise<void>;
}
