import type { ConversationService } from "../core/conversation-service.js";
import { SwitchboardError } from "../core/errors.js";
import type { Store } from "../store/store.js";
import { DELIVERY_CHANNELS, preferenceAllows, type ConsentEntry, type ConsentState, type Delivery, type DeliveryStore, type NotificationPreferences } from "./delivery-store.js";
import { CLOCK_TIME, isTimeZone, type QuietHours } from "./quiet-hours.js";

/**
 * A preferences change; absent fields keep their value, `smsDelayMs: null` returns to the
 * server's default, `quietHours: null` removes the quiet hours.
 */
export interface PreferencesPatch {
  push?: boolean;
  sms?: boolean;
  smsDelayMs?: number | null;
  email?: boolean;
  /** `null` returns to the server's default (`EMAIL_DELAY_SECONDS`). */
  emailDelayMs?: number | null;
  quietHours?: QuietHours | null;
}

/** A user's SMS consent as the API shows it. */
export interface SmsConsent {
  userId: string;
  /** The user's phone number, when they have one. */
  phone?: string;
  state: ConsentState;
  /** The number's ledger, oldest first. */
  ledger: ConsentEntry[];
}

/**
 * What users and customer backends choose about offline notifications: channels, per-user SMS
 * delay, muted conversations, SMS consent, and each message's delivery timeline. Turning a
 * channel off or muting cancels what is already scheduled.
 */
export class NotificationSettingsService {
  constructor(
    private readonly store: DeliveryStore,
    private readonly chat: Pick<Store, "getUser">,
    private readonly conversations: ConversationService,
    private readonly onChanged: (delivery: Delivery) => void,
  ) {}

  /** The user's preferences, defaults filled in. Throws `not_found` for an unknown user. */
  async getPreferences(userId: string): Promise<NotificationPreferences> {
    await this.requireUser(userId);
    return (await this.store.getPreferences(userId)) ?? { userId, push: true, sms: true, email: true, updatedAt: new Date(0).toISOString() };
  }

  async updatePreferences(userId: string, patch: PreferencesPatch): Promise<NotificationPreferences> {
    const current = await this.getPreferences(userId);
    const next: NotificationPreferences = {
      userId,
      push: patch.push ?? current.push,
      sms: patch.sms ?? current.sms,
      email: patch.email ?? current.email,
      updatedAt: new Date().toISOString(),
    };
    const delay = patch.smsDelayMs === undefined ? current.smsDelayMs : (patch.smsDelayMs ?? undefined);
    if (delay !== undefined) next.smsDelayMs = delay;
    const emailDelay = patch.emailDelayMs === undefined ? current.emailDelayMs : (patch.emailDelayMs ?? undefined);
    if (emailDelay !== undefined) next.emailDelayMs = emailDelay;
    if (patch.quietHours) checkQuietHours(patch.quietHours);
    const quietHours = patch.quietHours === undefined ? current.quietHours : (patch.quietHours ?? undefined);
    if (quietHours) next.quietHours = { start: quietHours.start, end: quietHours.end, timeZone: quietHours.timeZone };
    await this.store.savePreferences(next);
    const off = DELIVERY_CHANNELS.filter((channel) => preferenceAllows(current, channel) && !preferenceAllows(next, channel));
    if (off.length > 0) await this.cancelled(this.store.cancelScheduledForUser(userId, "muted", off, Date.now()));
    return next;
  }

  /** Mutes the conversation for a member (until `until`, ISO-8601, or until unmuted). */
  async mute(userId: string, conversationId: string, until?: string): Promise<{ conversationId: string; until?: string }> {
    await this.conversations.requireMember(conversationId, userId);
    if (until !== undefined && Date.parse(until) <= Date.now()) throw new SwitchboardError("invalid_argument", "until: must be in the future.");
    await this.store.setMute({ userId, conversationId, ...(until ? { until } : {}) }, true);
    await this.cancelled(this.store.cancelScheduled(conversationId, userId, Number.MAX_SAFE_INTEGER, "muted", DELIVERY_CHANNELS, Date.now()));
    return { conversationId, ...(until ? { until } : {}) };
  }

  async unmute(userId: string, conversationId: string): Promise<void> {
    await this.conversations.requireMember(conversationId, userId);
    await this.store.setMute({ userId, conversationId }, false);
  }

  /** The user's consent state and their number's ledger. */
  async getConsent(userId: string): Promise<SmsConsent> {
    const user = await this.requireUser(userId);
    if (!user.phone) return { userId, state: "unknown", ledger: [] };
    const [state, ledger] = await Promise.all([this.store.consentState(user.phone), this.store.listConsent(user.phone)]);
    return { userId, phone: user.phone, state, ledger };
  }

  /**
   * Records consent the customer collected (`granted`) or its withdrawal, for the user's current
   * phone number. Throws `invalid_argument` when the user has no phone number.
   */
  async recordConsent(userId: string, granted: boolean, note?: string): Promise<SmsConsent> {
    const user = await this.requireUser(userId);
    if (!user.phone) throw new SwitchboardError("invalid_argument", `User ${userId} has no phone number; set one with POST /v1/users first.`);
    await this.store.appendConsent({ phone: user.phone, action: granted ? "opt_in" : "opt_out", source: "api", ...(note ? { note } : {}), at: new Date().toISOString() });
    if (!granted) await this.cancelled(this.store.cancelScheduledForUser(userId, "opted_out", ["sms"], Date.now()));
    return this.getConsent(userId);
  }

  /** Every delivery of the message, oldest first (empty when no member was offline for it). */
  deliveries(messageId: string): Promise<Delivery[]> {
    return this.store.listForMessage(messageId);
  }

  private async requireUser(userId: string) {
    const user = await this.chat.getUser(userId);
    if (!user) throw new SwitchboardError("not_found", `No user ${userId}.`);
    return user;
  }

  private async cancelled(work: Promise<Delivery[]>): Promise<void> {
    for (const delivery of await work) this.onChanged(delivery);
  }
}

/**
 * The HTTP layer validates the same with zod; checked again here because the service is the
 * boundary every caller crosses, and a bad zone stored would make every later plan throw.
 */
function checkQuietHours(quietHours: QuietHours): void {
  for (const field of ["start", "end"] as const) {
    if (!CLOCK_TIME.test(quietHours[field])) throw new SwitchboardError("invalid_argument", `quietHours.${field}: must be a 24-hour time HH:MM such as 22:00.`);
  }
  if (quietHours.start === quietHours.end) throw new SwitchboardError("invalid_argument", "quietHours: start and end must differ (use null to have no quiet hours).");
  if (!isTimeZone(quietHours.timeZone)) throw new SwitchboardError("invalid_argument", `quietHours.timeZone: ${JSON.stringify(quietHours.timeZone)} is not an IANA time zone such as Europe/Berlin.`);
}
