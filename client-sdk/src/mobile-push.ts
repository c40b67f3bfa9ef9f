import { SwitchboardClientError } from "./errors.js";

/**
 * Native push registration for mobile apps (React Native, Expo bare, Capacitor, native shells):
 * hand the server the device token the OS gave the app, so the user's offline messages arrive
 * through APNs (iOS) or Firebase Cloud Messaging (Android). Getting the token stays with the app
 * (`@react-native-firebase/messaging`'s `getToken()`, or the APNs token from
 * `didRegisterForRemoteNotificationsWithDeviceToken` as hex); this module only talks to Switchboard.
 * Uses the global `fetch` (React Native and Node 18+ have one).
 */

/** Options of {@link registerDevice}, {@link unregisterDevice} and {@link listDevices}. */
export interface MobilePushOptions {
  /** The Switchboard server's base URL, e.g. `https://chat.example.com`. Required. */
  serverUrl: string;
  /** Returns the user's token (the one `ChatClient` connects with). Required. */
  getToken: () => Promise<string> | string;
  /** The `fetch` to use. Default: the global one. */
  fetch?: typeof fetch;
}

/** The device to register. */
export interface DeviceInput {
  /** `ios`: an APNs device token (hex); `android`: an FCM registration token; `expo`: an Expo push token (`ExponentPushToken[…]`). */
  platform: "ios" | "android" | "expo";
  token: string;
  /** The app's bundle id (iOS, used as `apns-topic`) or package name (Android); default: the server's `APNS_TOPIC`. */
  appId?: string;
}

/** A device as the server stored it. */
export interface RegisteredDevice {
  id: string;
  platform: "ios" | "android" | "expo";
  token: string;
  appId?: string;
  /** ISO-8601. */
  createdAt: string;
  /** ISO-8601. */
  updatedAt: string;
}

/** What {@link unregisterDevice} did. */
export type DeviceUnregisterResult =
  /** Removed: no more pushes go to the token for this user. */
  | { status: "unregistered" }
  /** The server did not know the token for this user (already removed, or pruned after the provider called it invalid). */
  | { status: "not_registered" };

/**
 * Registers the device token for the signed-in user. Call it after every app start and whenever
 * the OS hands out a new token (FCM's `onTokenRefresh`): registering again is idempotent, and a
 * token that belonged to another account moves to this user. Rejects with a
 * {@link SwitchboardClientError} when the server refuses (`invalid_argument` names the field).
 */
export async function registerDevice(options: MobilePushOptions, device: DeviceInput): Promise<RegisteredDevice> {
  return call<RegisteredDevice>(options, "POST", "/v1/push/devices", device);
}

/** Stops pushes to this device for the user; call it when the user signs out of the app. */
export async function unregisterDevice(options: MobilePushOptions, token: string): Promise<DeviceUnregisterResult> {
  try {
    await call(options, "DELETE", `/v1/push/devices/${encodeURIComponent(token)}`);
    return { status: "unregistered" };
  } catch (err) {
    if (err instanceof SwitchboardClientError && err.code === "not_found") return { status: "not_registered" };
    throw err;
  }
}

/** The user's registered devices, oldest first. */
export async function listDevices(options: MobilePushOptions): Promise<RegisteredDevice[]> {
  return (await call<{ devices: RegisteredDevice[] }>(options, "GET", "/v1/push/devices")).devices;
}

/** One request with the user token; rejects with the server's error as a {@link SwitchboardClientError}. */
async function call<T = unknown>(options: MobilePushOptions, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Authorization: `Bearer ${await options.getToken()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(new URL(path, options.serverUrl).toString(), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch (err) {
    throw SwitchboardClientError.from(err);
  }
  if (response.status === 204) return undefined as T;
  const parsed: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = (parsed as { error?: unknown } | undefined)?.error;
    throw error ? SwitchboardClientError.fromWire(error) : new SwitchboardClientError(response.status >= 500 ? "unavailable" : "internal", `${method} ${path} answered ${response.status}`);
  }
  return parsed as T;
}
