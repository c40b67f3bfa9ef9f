import type { Message } from "../../../../client-sdk/src/protocol.js";
import type { ChatEvent, ChatEvents } from "../../core/chat-events.js";
import type { Logger } from "../../logger.js";
import type { Delivery, MobileChannel } from "../delivery-store.js";
import { buildPushPayload, type PushPayload } from "../push/push-payload.js";
import type { DevicePlatform, DeviceRecord, DeviceStore } from "./device-store.js";
import type { MobilePushResult, MobilePushSender } from "./mobile-push-sender.js";

/** What the notification says, as the worker prepared it. */
export interface MobileNotificationContent {
  /** Group conversations: shown as "<sender> in <title>". */
  conversationTitle?: string;
  /** The newest message the notification covers. */
  message: Message;
  senderName: string;
  /** The text to show (a summary of the attachments for a message without text). */
  text: string;
}

/** What sending one delivery to every device of its channel came to, as the worker records it. */
export type MobileNotifyOutcome =
  /** The recipient has no device on the channel's platform. */
  | { kind: "no_device" }
  /** At least one device's provider accepted it. */
  | { kind: "sent"; statusCode?: number; detail: string }
  /** None accepted, some may later: retry (after `retryAfterMs` at least). */
  | { kind: "retry"; statusCode?: number; errorCode?: string; retryAfterMs?: number; detail: string }
  /** Every device's token was invalid; they were removed. */
  | { kind: "gone"; statusCode?: number; errorCode?: string; detail: string }
  /** Refused for good. */
  | { kind: "failed"; statusCode?: number; errorCode?: string; detail: string };

/** What the worker needs of native mobile push (built by the composition root). */
export interface MobilePushChannel {
  /** The configured drivers by channel; a channel without one is off. */
  senders: Partial<Record<MobileChannel, MobilePushSender>>;
  /** Sends the delivery's notification to every device of the sender's platform. */
  notify(delivery: Delivery, content: MobileNotificationContent, sender: MobilePushSender): Promise<MobileNotifyOutcome>;
}

/** Options of {@link MobilePushService}. */
export interface MobilePushServiceOptions {
  devices: DeviceStore;
  /** The configured drivers; absent channels are off. */
  senders: Partial<Record<MobileChannel, MobilePushSender>>;
  /** The user's unread messages across their conversations: the badge. */
  unreadCount(userId: string): Promise<number>;
  logger: Logger;
}

/**
 * Native mobile push around the drivers: sends a delivery's alert to each of the recipient's
 * devices (badge = their unread count, collapse id = the conversation), prunes tokens the
 * provider calls invalid, and, when the user reads, sends a silent badge update to the devices
 * whose badge it changes, so the notification disappears from the phone when the message was read
 * on the laptop. The silent update is best effort (not in the outbox): it is sent once, by the
 * node that recorded the read, and a lost one is corrected by the next notification's badge.
 */
export class MobilePushService implements MobilePushChannel {
  readonly senders: Partial<Record<MobileChannel, MobilePushSender>>;

  constructor(private readonly options: MobilePushServiceOptions) {
    this.senders = options.senders;
  }

  /** Whether any mobile channel is configured. */
  get enabled(): boolean {
    return Object.keys(this.senders).length > 0;
  }

  /** The channels a user's devices could be reached on now: those configured for which they have a device. */
  async channelsWithDevices(userId: string): Promise<Set<MobileChannel>> {
    const reachable = new Set<MobileChannel>();
    if (!this.enabled) return reachable;
    for (const device of await this.options.devices.listDevices(userId)) {
      const channel = channelOf(device.platform);
      if (this.senders[channel]) reachable.add(channel);
    }
    return reachable;
  }

  async notify(delivery: Delivery, content: MobileNotificationContent, sender: MobilePushSender): Promise<MobileNotifyOutcome> {
    const { devices } = this.options;
    const targets = await devices.listDevices(delivery.userId, sender.platform);
    if (targets.length === 0) return { kind: "no_device" };
    // Same wording and limits as Web Push: title "Ada in Launch plans", body cut to fit.
    const payload = JSON.parse(
      buildPushPayload({
        conversationId: delivery.conversationId,
        ...(content.conversationTitle ? { conversationTitle: content.conversationTitle } : {}),
        messageId: content.message.id,
        seq: content.message.seq,
        senderName: content.senderName,
        text: content.text,
        messageCount: delivery.messageCount,
      }),
    ) as PushPayload;
    const badge = await this.options.unreadCount(delivery.userId);
    const results = await Promise.all(
      targets.map(async (device) => ({
        device,
        result: await sender.send(device, {
          kind: "alert",
          title: payload.title,
          body: payload.body,
          badge,
          collapseId: delivery.conversationId,
          data: { type: "message", conversationId: delivery.conversationId, messageId: payload.messageId, seq: String(payload.seq), messageCount: String(payload.messageCount) },
        }),
      })),
    );
    await this.afterSend(results, badge);
    const summary = results.map(({ device, result }) => `${device.id}: ${describe(result)}`).join("; ");
    const provider = PROVIDER_NAMES[sender.channel];
    const accepted = results.filter((r) => r.result.kind === "sent");
    if (accepted.length > 0) {
      return { kind: "sent", statusCode: accepted[0].result.statusCode, detail: `accepted by ${provider} for ${accepted.length} of ${results.length} devices, badge ${badge} (${summary})` };
    }
    const retryable = results.flatMap((r) => (r.result.kind === "retry" ? [r.result] : []));
    if (retryable.length > 0) {
      const retryAfterMs = Math.max(0, ...retryable.map((r) => r.retryAfterMs ?? 0));
      return { kind: "retry", ...codes(retryable[0]), ...(retryAfterMs > 0 ? { retryAfterMs } : {}), detail: summary };
    }
    const first = results[0].result;
    if (results.every((r) => r.result.kind === "invalid_token")) {
      return { kind: "gone", ...codes(first), detail: `every ${sender.platform} device token was invalid; removed (${summary})` };
    }
    const failed = results.find((r) => r.result.kind === "failed")?.result ?? first;
    return { kind: "failed", ...codes(failed), detail: `refused by ${provider}, not retried (${summary})` };
  }

  /** Subscribes to reads, for the silent badge updates; returns the function that unsubscribes. */
  attach(events: ChatEvents): () => void {
    if (!this.enabled) return () => undefined;
    return events.subscribe((event: ChatEvent) => {
      if (event.type !== "receipt.read") return;
      void this.onRead(event.userId, event.conversationId).catch((err) =>
        this.options.logger.warn({ err, userId: event.userId, conversationId: event.conversationId }, "mobile push: the silent badge update after a read failed; the next notification corrects the badge"),
      );
    });
  }

  /**
   * The user read a conversation: every device whose shown badge is now wrong gets a silent
   * update (APNs background push, FCM data message) with the new unread count. Devices that were
   * never notified have no badge to correct and get nothing, which keeps reads on an open app
   * from waking every phone.
   */
  async onRead(userId: string, conversationId: string): Promise<number> {
    const stale = (await this.options.devices.listDevices(userId)).filter((d) => d.badge !== undefined && this.senders[channelOf(d.platform)]);
    if (stale.length === 0) return 0;
    const badge = await this.options.unreadCount(userId);
    const targets = stale.filter((d) => d.badge !== badge);
    const results = await Promise.all(
      targets.map(async (device) => ({ device, result: await this.senders[channelOf(device.platform)]!.send(device, { kind: "badge", badge, conversationId }) })),
    );
    await this.afterSend(results, badge);
    for (const { device, result } of results) {
      this.options.logger.info({ deviceId: device.id, userId, conversationId, badge, result: describe(result) }, "mobile push: silent badge update after a read");
    }
    return results.filter((r) => r.result.kind === "sent").length;
  }

  /** Prunes invalid tokens and remembers the badge each accepting device now shows. */
  private async afterSend(results: { device: DeviceRecord; result: MobilePushResult }[], badge: number): Promise<void> {
    for (const { device, result } of results) {
      if (result.kind === "invalid_token") {
        await this.options.devices.deleteDeviceByToken(device.platform, device.token);
        this.options.logger.info({ deviceId: device.id, userId: device.userId, reason: result.reason }, "mobile push: removed a device whose token the provider reported invalid");
      } else if (result.kind === "sent") {
        await this.options.devices.setBadge(device.platform, device.token, badge);
      }
    }
  }

  /** Closes the drivers' connections. */
  async close(): Promise<void> {
    await Promise.all(Object.values(this.senders).map((s) => s.close()));
  }
}

const PROVIDER_NAMES: Record<MobileChannel, string> = { fcm: "FCM", apns: "APNs", expo: "Expo" };

/** The delivery channel of a platform's devices. */
export function channelOf(platform: DevicePlatform): MobileChannel {
  switch (platform) {
    case "ios":
      return "apns";
    case "android":
      return "fcm";
    case "expo":
      return "expo";
    default: {
      const exhaustive: never = platform;
      return exhaustive;
    }
  }
}

function codes(result: MobilePushResult): { statusCode?: number; errorCode?: string } {
  const reason = result.kind === "sent" ? undefined : result.reason;
  return { ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}), ...(reason ? { errorCode: reason } : {}) };
}

function describe(result: MobilePushResult): string {
  switch (result.kind) {
    case "sent":
      return `accepted (${result.statusCode})`;
    case "invalid_token":
      return `invalid token (${result.statusCode} ${result.reason})`;
    case "retry":
    case "failed":
      return `${result.statusCode ?? "no answer"}: ${result.detail}`;
    default: {
      const exhaustive: never = result;
      return exhaustive;
    }
  }
}
