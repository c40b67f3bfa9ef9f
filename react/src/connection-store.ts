import type { ChatClient, ConnectingCode, ConnectionState, DisconnectedCode } from "@switchboard/client-sdk";
import { ExternalStore } from "./external-store.js";

/** What {@link useConnectionState} returns: the state, and why the client is in it. */
export interface ConnectionSnapshot {
  /** `disconnected`, `connecting` or `connected`. */
  readonly state: ConnectionState;
  /** The code of the last transition (`undefined` before the first one this store saw). */
  readonly code?: ConnectingCode | DisconnectedCode | "connected";
  /** A human-readable reason for the last transition. */
  readonly reason?: string;
}

/** The snapshot used on the server and before a client exists. */
export const SERVER_CONNECTION: ConnectionSnapshot = Object.freeze({ state: "disconnected" });

/** The client's connection state as an external store. */
export class ConnectionStore extends ExternalStore {
  private snapshot: ConnectionSnapshot;
  private off: (() => void) | undefined;

  constructor(private readonly client: ChatClient) {
    super();
    this.snapshot = { state: client.state };
  }

  /** The current snapshot; the same object until the state changes. */
  readonly getSnapshot = (): ConnectionSnapshot => {
    // Unsubscribed, the store hears no events: read the client so a first render is current.
    if (!this.active && this.snapshot.state !== this.client.state) this.snapshot = { state: this.client.state };
    return this.snapshot;
  };

  protected start(): void {
    this.off = this.client.on("state", (change) => {
      this.snapshot = { state: change.newState, code: change.code, reason: change.reason };
      this.notify();
    });
    if (this.snapshot.state !== this.client.state) {
      this.snapshot = { state: this.client.state };
      this.notify();
    }
  }

  protected stop(): void {
    this.off?.();
    this.off = undefined;
  }
}
