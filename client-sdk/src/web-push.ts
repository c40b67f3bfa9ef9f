import { SwitchboardClientError } from "./errors.js";

/**
 * Browser helper for Switchboard's Web Push: registers the service worker that shows the
 * notifications (`switchboard-sw.js`, served by your site), subscribes with the server's VAPID
 * key, and registers the subscription with the user's token. Browsers only; in other runtimes
 * it answers `unsupported`.
 */

/** Options of {@link enablePushNotifications} and {@link disablePushNotifications}. */
export interface WebPushOptions {
  /** The Switchboard server's base URL, e.g. `https://chat.example.com`. Required. */
  serverUrl: string;
  /** Returns the user's token (the one `ChatClient` connects with). Required. */
  getToken: () => Promise<string> | string;
  /**
   * The service worker script, on your site's origin (browsers refuse cross-origin workers).
   * Default `"/switchboard-sw.js"`.
   */
  serviceWorkerUrl?: string;
  /** The worker's scope. Default: the browser's default (the script's directory). */
  scope?: string;
}

/** What {@link enablePushNotifications} achieved. */
export type PushEnableResult =
  /** This browser gets pushes; `endpoint` identifies its subscription. */
  | { status: "subscribed"; endpoint: string }
  /** No service worker, Push API or Notification API here (an old browser, an iOS page not added to the home screen, Node). */
  | { status: "unsupported" }
  /** The user refused notifications (or dismissed the prompt); only the browser's site settings can change that. */
  | { status: "denied" };

/** What {@link disablePushNotifications} did. */
export type PushDisableResult =
  /** The subscription was removed from the server and the browser. */
  | { status: "unsubscribed"; endpoint: string }
  /** This browser had no subscription. */
  | { status: "not_subscribed" }
  | { status: "unsupported" };

const DEFAULT_SERVICE_WORKER_URL = "/switchboard-sw.js";

/**
 * Turns on push notifications for this browser and user. Call it from a user gesture (a click):
 * browsers ignore or penalise permission prompts that come without one. Safe to call on every
 * page load once permission is granted: an existing subscription made with the server's current
 * key is reused (and registered again, which is idempotent); one made with another key is
 * replaced. Rejects with a {@link SwitchboardClientError} when the server refuses.
 */
export async function enablePushNotifications(options: WebPushOptions): Promise<PushEnableResult> {
  if (!isSupported()) return { status: "unsupported" };
  const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
  if (permission !== "granted") return { status: "denied" };

  const registration = await navigator.serviceWorker.register(
    options.serviceWorkerUrl ?? DEFAULT_SERVICE_WORKER_URL,
    options.scope ? { scope: options.scope } : undefined,
  );
  await activated(registration);

  const { publicKey } = await call<{ publicKey: string }>(options, "GET", "/v1/push/vapid-public-key", undefined, false);
  const serverKey = base64UrlToBytes(publicKey);

  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, serverKey)) {
    // Made with another key (the server's keys were replaced): its push service would refuse
    // every push the server signs now.
    const stale = subscription.endpoint;
    await subscription.unsubscribe();
    await call(options, "DELETE", "/v1/push/subscriptions", { endpoint: stale }).catch(() => undefined);
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: serverKey });

  await call(options, "POST", "/v1/push/subscriptions", subscription.toJSON());
  return { status: "subscribed", endpoint: subscription.endpoint };
}

/**
 * Turns push notifications off for this browser: removes the subscription from the server (so
 * no more pushes are sent to it), then from the browser. The service worker stays registered.
 */
export async function disablePushNotifications(options: WebPushOptions): Promise<PushDisableResult> {
  if (!isSupported()) return { status: "unsupported" };
  const scriptUrl = new URL(options.serviceWorkerUrl ?? DEFAULT_SERVICE_WORKER_URL, location.href).href;
  const registration = await navigator.serviceWorker.getRegistration(options.scope ? new URL(options.scope, location.href).href : scriptUrl);
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return { status: "not_subscribed" };
  const { endpoint } = subscription;
  try {
    await call(options, "DELETE", "/v1/push/subscriptions", { endpoint });
  } catch (err) {
    // Unknown to the server already: still unsubscribe the browser.
    if (!(err instanceof SwitchboardClientError && err.code === "not_found")) throw err;
  }
  await subscription.unsubscribe();
  return { status: "unsubscribed", endpoint };
}

function isSupported(): boolean {
  return (
    typeof navigator !== "undefined" &&
    "serviceWorker" in navigator &&
    typeof window !== "undefined" &&
    "PushManager" in window &&
    typeof Notification !== "undefined"
  );
}

/** Resolves once the registration has an active worker: `pushManager.subscribe` fails before. */
async function activated(registration: ServiceWorkerRegistration): Promise<void> {
  if (registration.active) return;
  const worker = registration.installing ?? registration.waiting;
  if (!worker) return;
  await new Promise<void>((resolve, reject) => {
    const onChange = () => {
      if (worker.state === "activated") {
        worker.removeEventListener("statechange", onChange);
        resolve();
      } else if (worker.state === "redundant") {
        worker.removeEventListener("statechange", onChange);
        reject(new SwitchboardClientError("unavailable", "The push service worker failed to install; check that its URL serves the script."));
      }
    };
    worker.addEventListener("statechange", onChange);
    onChange();
  });
}

/** One request to the server; rejects with the server's error as a {@link SwitchboardClientError}. */
async function call<T = unknown>(options: WebPushOptions, method: string, path: string, body?: unknown, authenticated = true): Promise<T> {
  const headers: Record<string, string> = {};
  if (authenticated) headers.Authorization = `Bearer ${await options.getToken()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(new URL(path, options.serverUrl), { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
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

function sameKey(current: ArrayBuffer | null, expected: Uint8Array): boolean {
  // A browser that does not report the key: subscribe again rather than risk a dead subscription.
  if (!current) return false;
  const bytes = new Uint8Array(current);
  return bytes.length === expected.length && bytes.every((b, i) => b === expected[i]);
}

function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const binary = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
