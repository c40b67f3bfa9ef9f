import type { CancelReason, DeliveryEvent, DeliveryStatus, PlanInput } from "./delivery-store.js";

/**
 * The timeline entries every {@link DeliveryStore} driver writes the same way, so a delivery's
 * history reads alike whichever store keeps it.
 */

/** The first entry of a newly planned delivery. */
export function scheduledEvent(input: PlanInput, at: string): DeliveryEvent {
  const planned = `Planned for message ${input.messageId} (seq ${input.seq}), due ${new Date(input.dueAt).toISOString()}.`;
  return { at, status: "scheduled", detail: input.deferred ? `${planned} ${input.deferred.detail}` : planned };
}

/** The entry of a delivery held back by the recipient's quiet hours until `until` (epoch ms). */
export function quietHoursDetail(until: number, window: string): string {
  return `Deferred: quiet hours (${window}) until ${new Date(until).toISOString()}.`;
}

/** The first entry of a message's row folded into another delivery of its burst. */
export function collapsedEvent(at: string, into: { id: string; status: DeliveryStatus }): DeliveryEvent {
  const how = into.status === "scheduled" ? "which has not been sent yet" : "which was sent recently and the recipient has not read since";
  return { at, status: "collapsed", detail: `Covered by delivery ${into.id}, ${how}.` };
}

/** The entry of a cancellation at `now` (epoch ms). */
export function cancelledEvent(reason: CancelReason, now: number): DeliveryEvent {
  return { at: new Date(now).toISOString(), status: "cancelled", detail: cancelDetail(reason) };
}

function cancelDetail(reason: CancelReason): string {
  switch (reason) {
    case "read":
      return "Cancelled: the recipient read the conversation.";
    case "online":
      return "Cancelled: the recipient connected.";
    case "opted_out":
      return "Cancelled: the phone number opted out.";
    case "muted":
      return "Cancelled: the recipient muted the conversation or turned the channel off.";
    case "no_destination":
      return "Cancelled: nothing to send to any more.";
    case "not_member":
      return "Cancelled: the recipient left the conversation.";
    default: {
      const exhaustive: never = reason;
      return exhaustive;
    }
  }
}

/** An ISO-8601 time in epoch ms; the clock when the caller's text does not parse. */
export function isoToMs(iso: string): number {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? Date.now() : ms;
}
