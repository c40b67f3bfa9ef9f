import type { User } from "../../../client-sdk/src/protocol.js";
import type { UserPrincipal } from "../auth/principal.js";
import type { Store, UserInput } from "../store/store.js";
import { SwitchboardError } from "./errors.js";

/**
 * How long the users seen in tokens wait to be recorded together (see
 * {@link UserService.ensureFromToken}): long enough that a burst of handshakes shares one store
 * commit, short enough that nobody reads a stale name (and {@link UserService.get} waits for them).
 */
export const ENSURE_WINDOW_MS = 20;
/** The most users one recording round holds; a fuller round starts at once. */
export const ENSURE_BATCH_MAX = 256;

/** One round of {@link UserService.ensureFromToken}: the latest claims per user, and when they are stored. */
interface EnsureRound {
  principals: Map<string, UserPrincipal>;
  done: Promise<void>;
  settle: { resolve: () => void; reject: (err: unknown) => void };
  timer: NodeJS.Timeout;
}

/** User records: provisioned by backends, and kept in step with the claims of user tokens. */
export class UserService {
  private round: EnsureRound | undefined;
  /** Users whose claims are waiting or being written, with the promise of that write. */
  private readonly recording = new Map<string, Promise<void>>();

  constructor(private readonly store: Store) {}

  /** Creates or updates a user. */
  upsert(input: UserInput): Promise<User> {
    return this.store.upsertUser(input, new Date().toISOString());
  }

  async get(id: string): Promise<User> {
    // A user whose first connection is being recorded is returned with the token's claims.
    await this.recording.get(id)?.catch(() => undefined);
    const user = await this.store.getUser(id);
    if (!user) throw new SwitchboardError("not_found", `User ${id} does not exist.`);
    return user;
  }

  /**
   * Records a user seen in a token: created on first connection, updated when the token's name
   * or role changed, and otherwise not written at all (this runs on every connection). The users
   * of one {@link ENSURE_WINDOW_MS} window are read and written together, so a burst of first
   * connections shares one SQLite commit instead of paying one each.
   */
  ensureFromToken(principal: UserPrincipal): Promise<void> {
    const round = (this.round ??= this.newRound());
    round.principals.set(principal.userId, principal);
    this.recording.set(principal.userId, round.done);
    if (round.principals.size >= ENSURE_BATCH_MAX) this.startRound(round);
    return round.done;
  }

  private newRound(): EnsureRound {
    let settle!: EnsureRound["settle"];
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const round: EnsureRound = { principals: new Map(), done, settle, timer: setTimeout(() => this.startRound(round), ENSURE_WINDOW_MS) };
    round.timer.unref();
    return round;
  }

  /** Reads and writes the round's users; the round that is no longer {@link round} has started. */
  private startRound(round: EnsureRound): void {
    if (this.round !== round) return;
    this.round = undefined;
    clearTimeout(round.timer);
    // Every read and write of the round starts in this turn: the writes share one group commit.
    Promise.all([...round.principals.values()].map((p) => this.ensureOne(p)))
      .then(() => round.settle.resolve(), round.settle.reject)
      .finally(() => {
        for (const id of round.principals.keys()) if (this.recording.get(id) === round.done) this.recording.delete(id);
      });
  }

  private async ensureOne(principal: UserPrincipal): Promise<void> {
    const existing = await this.store.getUser(principal.userId);
    if (existing && existing.role === principal.role && (principal.name === undefined || existing.name === principal.name)) return;
    await this.store.upsertUser(
      { id: principal.userId, role: principal.role, ...(principal.name ? { name: principal.name } : {}) },
      new Date().toISOString(),
    );
  }
}
