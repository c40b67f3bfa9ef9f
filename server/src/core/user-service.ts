import type { User } from "../../../client-sdk/src/protocol.js";
import type { UserPrincipal } from "../auth/principal.js";
import type { Store, UserInput } from "../store/store.js";
import { SwitchboardError } from "./errors.js";

/** User records: provisioned by backends, and kept in step with the claims of user tokens. */
export class UserService {
  constructor(private readonly store: Store) {}

  /** Creates or updates a user. */
  upsert(input: UserInput): Promise<User> {
    return this.store.upsertUser(input, new Date().toISOString());
  }

  async get(id: string): Promise<User> {
    const user = await this.store.getUser(id);
    if (!user) throw new SwitchboardError("not_found", `User ${id} does not exist.`);
    return user;
  }

  /**
   * Records a user seen in a token: created on first connection, updated when the token's name
   * or role changed, and otherwise not written at all (this runs on every connection).
   */
  async ensureFromToken(principal: UserPrincipal): Promise<void> {
    const existing = await this.store.getUser(principal.userId);
    if (existing && existing.role === principal.role && (principal.name === undefined || existing.name === principal.name)) return;
    await this.store.upsertUser(
      { id: principal.userId, role: principal.role, ...(principal.name ? { name: principal.name } : {}) },
      new Date().toISOString(),
    );
  }
}
