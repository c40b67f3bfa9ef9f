import type { Message, User } from "../../../client-sdk/src/protocol.js";
import type { ChatEvent, ChatEvents } from "../core/chat-events.js";
import { sortableId } from "../core/sortable-id.js";
import type { Store } from "../store/store.js";
import type { LadderStep } from "../config.js";
import {
  DELIVERY_CHANNELS,
  isDeliveryChannel,
  preferenceAllows,
  preferredDelayMs,
  type Delivery,
  type DeliveryChannel,
  type DeliveryStore,
  type MobileChannel,
  type PlanInput,
} from "./delivery-store.js";
import { quietHoursDetail } from "./delivery-timeline.js";
import { describeQuietHours, quietHoursEnd } from "./quiet-hours.js";

/** Background work of the planner that can fail, as its error callback names it. */
export type PlannerTask = "plan" | "cancel-on-read" | "cancel-on-connect";

/** What the planner needs, built by the composition root. */
export interface DeliveryPlannerOptions {
  store: DeliveryStore;
  /** The main store: conversations (members, read positions) and users (phone numbers). */
  chat: Pick<Store, "listUnreadMembers" | "getUser">;
  /**
   * Cluster-wide presence: a member with a live connection anywhere is not notified. Asked once
   * per message for all its members, so it must answer in one look-up (one Redis command).
   */
  presence: { onlineAmong(userIds: string[]): Promise<Set<string>> };
  /** Native mobile push: which of its channels (configured, with a device of the user) could reach a user. Absent: off. */
  mobile?: { channelsWithDevices(userId: string): Promise<ReadonlySet<MobileChannel>> };
  /**
   * The fallback ladder (`DELIVERY_LADDER`): channels in order, each with its wait after the
   * message; a user's own delay for a channel overrides the step's. Steps naming a channel this
   * build cannot send are skipped.
   */
  ladder: readonly LadderStep[];
  /**
   * Whether the user's address may get email about the conversation (it did not bounce, they did
   * not unsubscribe); absent while email is off on this server (the email step is then skipped).
   */
  emailAllowed?: (address: string, userId: string, conversationId: string) => Promise<boolean>;
  /** How long a sent notification absorbs the conversation's next messages (`DELIVERY_COLLAPSE_SECONDS`). */
  collapseWindowMs: number;
  /** Told about every delivery that was created or changed (webhooks, logs). */
  onChanged: (delivery: Delivery) => void;
  /** Told when something became due, so the worker looks now instead of at its next poll. */
  onScheduled: () => void;
  onError: (err: unknown, task: PlannerTask, context: Record<string, unknown>) => void;
  /** Clock, for tests. */
  now?: () => number;
}

/** Members planned in one store write, between two pauses that let the event loop serve live traffic. */
const PLAN_BATCH = 50;

/** `dlv_` + the time in base 36 (fixed width) + random hex: ids sort by creation across nodes. */
export function newDeliveryId(): string {
  return sortableId("dlv_");
}

/**
 * The fallback ladder's first half: after a message is stored, decides who gets what and when.
 *
 * For every member other than the sender who is offline everywhere in the cluster and has not
 * read the message, it walks the ladder (`DELIVERY_LADDER`): each channel the member has turned
 * on and has a destination for (a push subscription, an iOS / Android / Expo device, a phone number with consent) is scheduled
 * after its step's delay, or at the end of the member's quiet hours when it would fall inside
 * them; nothing in a muted conversation.
 * The outbox (see {@link DeliveryStore.plan}) folds a burst into one notification per channel.
 * Reading up to a message, or connecting, cancels what is still scheduled.
 *
 * What is decided here is re-checked by the worker just before sending (the recipient may have
 * connected, read, muted or opted out since); planning only records intent.
 */
export class DeliveryPlanner {
  private readonly now: () => number;
  private readonly ladder: readonly { channel: DeliveryChannel; delayMs: number }[];

  constructor(private readonly options: DeliveryPlannerOptions) {
    this.now = options.now ?? Date.now;
    this.ladder = options.ladder.flatMap((step) => (isDeliveryChannel(step.channel) ? [{ channel: step.channel, delayMs: step.delayMs }] : []));
  }

  /** The channels of the ladder this planner uses, in order (for the start-up log). */
  channels(): DeliveryChannel[] {
    return this.ladder.map((step) => step.channel);
  }

  /** Subscribes to the core's events; returns the function that unsubscribes. */
  attach(events: ChatEvents): () => void {
    return events.subscribe((event) => this.onEvent(event));
  }

  private onEvent(event: ChatEvent): void {
    switch (event.type) {
      case "message.created":
        void this.planMessage(event.message).catch((err) => this.options.onError(err, "plan", { messageId: event.message.id }));
        return;
      case "receipt.read":
        void this.cancel(event.conversationId, event.userId, event.seq).catch((err) =>
          this.options.onError(err, "cancel-on-read", { conversationId: event.conversationId, userId: event.userId }),
        );
        return;
      case "presence.changed":
        if (event.status !== "online") return;
        void this.cancelForUser(event.userId).catch((err) => this.options.onError(err, "cancel-on-connect", { userId: event.userId }));
        return;
      case "message.updated":
      case "reaction.changed":
      case "typing":
      case "presence.occupancy":
      case "conversation.updated":
      case "delivery.updated":
        return;
      default: {
        const exhaustive: never = event;
        return exhaustive;
      }
    }
  }

  /**
   * Plans the message's notifications. Safe to call again for the same message (a retried send
   * is announced again): the outbox keeps one row per (message, user, channel).
   */
  async planMessage(message: Message): Promise<Delivery[]> {
    // System messages (a ticket resolved, a member added) are not worth waking anyone for.
    if (message.type !== "text" || message.deletedAt) return [];
    // Only the ids of who has not read it: a send never loads the whole conversation for this.
    const candidates = await this.options.chat.listUnreadMembers(message.conversationId, message.seq, message.senderId);
    if (candidates.length === 0) return [];
    const online = await this.options.presence.onlineAmong(candidates);
    const offline = candidates.filter((userId) => !online.has(userId));
    const planned: Delivery[] = [];
    for (let start = 0; start < offline.length; start += PLAN_BATCH) {
      // The embedded store answers synchronously: without a pause a big group's planning would
      // hold the event loop in one piece (measured: 300 offline members stalled live messages
      // for 250 ms). Each batch is one store write (one commit, one fsync with SQLite FULL).
      if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      planned.push(...(await this.planBatch(message, offline.slice(start, start + PLAN_BATCH))));
    }
    return planned;
  }

  private async planBatch(message: Message, userIds: string[]): Promise<Delivery[]> {
    const now = this.now();
    const inputs: PlanInput[] = [];
    for (const userId of userIds) {
      for (const planned of await this.channelsFor(userId, message.conversationId, now)) {
        inputs.push({
          id: newDeliveryId(),
          messageId: message.id,
          conversationId: message.conversationId,
          seq: message.seq,
          userId,
          ...planned,
          // An email lists every unread message since the last one: a sent email absorbs nothing,
          // so the next message starts the next digest (a scheduled one still absorbs its burst).
          collapseSince: planned.channel === "email" ? now : now - this.options.collapseWindowMs,
          now,
        });
      }
    }
    const planned: Delivery[] = [];
    for (const result of await this.options.store.planBatch(inputs)) {
      switch (result.kind) {
        case "scheduled":
          this.options.onChanged(result.delivery);
          planned.push(result.delivery);
          break;
        case "collapsed":
          this.options.onChanged(result.delivery);
          this.options.onChanged(result.into);
          planned.push(result.delivery);
          break;
        case "exists":
          break;
        default: {
          const exhaustive: never = result;
          return exhaustive;
        }
      }
    }
    if (planned.some((d) => d.status === "scheduled")) this.options.onScheduled();
    return planned;
  }

  /**
   * The ladder's steps that may reach the user about this conversation, each with when it is due:
   * the step's delay (or the user's own), moved to the end of the user's quiet hours when it would
   * fall inside them.
   */
  private async channelsFor(userId: string, conversationId: string, now: number): Promise<Pick<PlanInput, "channel" | "dueAt" | "deferred">[]> {
    const { store } = this.options;
    const [mute, preferences] = await Promise.all([store.getMute(userId, conversationId, now), store.getPreferences(userId)]);
    if (mute) return [];
    let user: Promise<User | null> | undefined;
    let devices: Promise<ReadonlySet<MobileChannel>> | undefined;
    const recipient: Recipient = {
      userId,
      conversationId,
      store,
      user: () => (user ??= this.options.chat.getUser(userId)),
      mobileChannels: () => (devices ??= this.options.mobile?.channelsWithDevices(userId) ?? Promise.resolve(new Set<MobileChannel>())),
      ...(this.options.emailAllowed ? { emailAllowed: this.options.emailAllowed } : {}),
    };
    const channels: Pick<PlanInput, "channel" | "dueAt" | "deferred">[] = [];
    for (const step of this.ladder) {
      if (!preferenceAllows(preferences, step.channel) || !(await ELIGIBLE[step.channel](recipient))) continue;
      const due = now + (preferredDelayMs(preferences, step.channel) ?? step.delayMs);
      const quietUntil = quietHoursEnd(preferences?.quietHours, due);
      if (quietUntil === null || !preferences?.quietHours) {
        channels.push({ channel: step.channel, dueAt: due });
      } else {
        const detail = quietHoursDetail(quietUntil, describeQuietHours(preferences.quietHours));
        channels.push({ channel: step.channel, dueAt: quietUntil, deferred: { reason: "quiet_hours", detail } });
      }
    }
    return channels;
  }

  /** The user read up to `seq`: what is scheduled for those messages is no longer needed. */
  private async cancel(conversationId: string, userId: string, seq: number): Promise<void> {
    const cancelled = await this.options.store.cancelScheduled(conversationId, userId, seq, "read", DELIVERY_CHANNELS, this.now());
    for (const delivery of cancelled) this.options.onChanged(delivery);
  }

  /** The user connected somewhere: their app has every message, so nothing scheduled is needed. */
  private async cancelForUser(userId: string): Promise<void> {
    const cancelled = await this.options.store.cancelScheduledForUser(userId, "online", DELIVERY_CHANNELS, this.now());
    for (const delivery of cancelled) this.options.onChanged(delivery);
  }
}

/** What an eligibility check may look up about one recipient. */
interface Recipient {
  userId: string;
  conversationId: string;
  store: DeliveryStore;
  /** {@link DeliveryPlannerOptions.emailAllowed}; absent while email is off. */
  emailAllowed?: (address: string, userId: string, conversationId: string) => Promise<boolean>;
  /** The user record (phone number, email address), loaded once however many channels ask. */
  user(): Promise<User | null>;
  /** The mobile channels the user has a device for (and this node a sender), loaded once. */
  mobileChannels(): Promise<ReadonlySet<MobileChannel>>;
}

/**
 * Whether a channel has somewhere to go for the recipient, one check per channel. Preferences
 * and mutes are checked before; the worker checks again right before sending.
 */
const ELIGIBLE: { readonly [C in DeliveryChannel]: (recipient: Recipient) => Promise<boolean> } = {
  push: async (r) => (await r.store.listPushSubscriptions(r.userId)).length > 0,
  fcm: async (r) => (await r.mobileChannels()).has("fcm"),
  apns: async (r) => (await r.mobileChannels()).has("apns"),
  expo: async (r) => (await r.mobileChannels()).has("expo"),
  email: async (r) => {
    if (!r.emailAllowed) return false;
    const address = (await r.user())?.email;
    return address !== undefined && (await r.emailAllowed(address, r.userId, r.conversationId));
  },
  sms: async (r) => {
    const phone = (await r.user())?.phone;
    return phone !== undefined && (await r.store.consentState(phone)) === "opted_in";
  },
};
