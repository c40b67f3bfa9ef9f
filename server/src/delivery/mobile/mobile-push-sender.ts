import type { MobileChannel } from "../delivery-store.js";
import type { DevicePlatform, DeviceRecord } from "./device-store.js";

/**
 * What a native push carries, whatever the provider. Tagged: a visible notification of a new
 * message, or a silent update of the app icon's badge after the user read elsewhere.
 */
export type MobilePush =
  | {
      kind: "alert";
      /** "Ada" or "Ada in Launch plans". */
      title: string;
      /** The newest message's text, cut to fit, plus "(+N more)" for a burst. */
      body: string;
      /** The user's unread count, shown on the app icon. */
      badge: number;
      /** The conversation: a newer notification of it replaces the one shown (APNs `apns-collapse-id`, FCM `tag`). */
      collapseId: string;
      /** What the app needs to open the conversation; string values (FCM data is string to string). */
      data: { type: "message"; conversationId: string; messageId: string; seq: string; messageCount: string };
    }
  | {
      kind: "badge";
      /** The unread count after the read. */
      badge: number;
      /** The conversation that was read, so the app can remove its notification. */
      conversationId: string;
    };

/** What a push provider answered, as the delivery worker acts on it. */
export type MobilePushResult =
  /** Accepted. `id`: the provider's id of the push (APNs `apns-id`, FCM message `name`). */
  | { kind: "sent"; statusCode: number; id?: string }
  /** The token is invalid or unregistered (APNs 410/`BadDeviceToken`, FCM `UNREGISTERED`): remove the device, never retry. */
  | { kind: "invalid_token"; statusCode: number; reason: string; detail: string }
  /** 429, 5xx, an expired provider credential, a timeout or a network error: retry, after `retryAfterMs` when the provider said. */
  | { kind: "retry"; statusCode?: number; reason?: string; retryAfterMs?: number; detail: string }
  /** Any other answer (a bad payload, a wrong topic, bad credentials): permanent, never retried. */
  | { kind: "failed"; statusCode?: number; reason?: string; detail: string };

/**
 * Sends one native push to one device. Drivers side by side: `apns-sender.ts` (Apple, HTTP/2 with
 * token auth), `fcm-sender.ts` (Firebase Cloud Messaging HTTP v1 with a service account) and
 * `expo-sender.ts` (Expo's push service, for apps built with Expo).
 * Never throws for a provider's answer; every outcome is a {@link MobilePushResult}.
 */
export interface MobilePushSender {
  /** The delivery channel this driver serves. */
  readonly channel: MobileChannel;
  /** The devices it sends to. */
  readonly platform: DevicePlatform;
  send(device: DeviceRecord, push: MobilePush): Promise<MobilePushResult>;
  /** Releases connections (the APNs HTTP/2 session). */
  close(): Promise<void>;
}

/** At most this much of a provider's error body goes into a result's `detail`. */
export const DETAIL_BODY_CHARS = 200;

/** A provider's error body, cut for a timeline entry. */
export function describeBody(body: string | undefined): string {
  const text = body?.trim();
  if (!text) return "";
  return `: ${text.length > DETAIL_BODY_CHARS ? `${text.slice(0, DETAIL_BODY_CHARS)}…` : text}`;
}
