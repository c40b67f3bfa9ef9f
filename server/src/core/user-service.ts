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
  start: () => void;
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
    if (round.principals.size >= ENSURE_BATCH_MAX) round.start();
    return round.done;
  }

  private newRound(): EnsureRound {
    let start!: () => void;
    const principals = new Map<string, UserPrincipal>();
    const done = new Promise<void>((resolve, reject) => {
      let started = false;
      const timer = setTimeout(() => start(), ENSURE_WINDOW_MS);
      timer.unref();
      start = () => {
        if (started) return;
        started = true;
        clearTimeout(timer);
        if (this.round?.principals === principals) this.round = undefined;
        // Every read and write of the round starts in this turn: the writes share one group commit.
        Promise.all([...principals.values()].map((p) => this.ensureOne(p))).then(() => resolve(), reject);
      };
    });
    const round: EnsureRound = { principals, done, start: () => start() };
    void done
      .catch(() => undefined)
      .finally(() => {
        for (const id of principals.keys()) if (this.recording.get(id) === done) this.recording.delete(id);
      });
    return round;
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
