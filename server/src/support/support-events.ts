import type { SupportTicket } from "../../../client-sdk/src/protocol.js";

/** What changed on a ticket, for listeners that care (the gateway sends every change alike). */
export type SupportTicketChange = "created" | "message" | "status" | "assignee" | "joined";

/**
 * What the support desk announces. The socket binding fans these out (`support:updated`,
 * `support:availability`); the desk never knows who listens.
 */
export type SupportEvent =
  /** A ticket changed; `ticket` is its full current view. */
  | { type: "ticket.updated"; ticket: SupportTicket; change: SupportTicketChange }
  /** The number of online agents changed (as seen by this node). */
  | { type: "availability"; agentsOnline: number };

/** A listener; one that throws is reported to `onListenerError` and does not stop the others. */
export type SupportEventListener = (event: SupportEvent) => void;

/** A minimal synchronous publish/subscribe hub for {@link SupportEvent}s. */
export class SupportEvents {
  private readonly listeners = new Set<SupportEventListener>();

  constructor(private readonly onListenerError: (err: unknown, event: SupportEvent) => void = () => undefined) {}

  /** Subscribes; returns the function that unsubscribes. */
  subscribe(listener: SupportEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: SupportEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
