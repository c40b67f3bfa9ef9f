import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { EmailThread } from "./email-store.js";

/** What a signed token is for; part of what is signed, so a reply token is no unsubscribe token. */
export type EmailTokenPurpose = "reply" | "bounce" | "unsubscribe";

/** A local part or route token, split but not yet verified. */
export interface ParsedToken {
  threadId: string;
  mac: string;
}

/** 12 hex digits of thread id, 20 of MAC (80 bits): 32 characters, well inside a 64-character local part. */
const TOKEN = /^([0-9a-f]{12})([0-9a-f]{20})$/;
/** `reply+<token>` or `bounce+<token>`. */
const LOCAL_PART = /^(reply|bounce)\+([0-9a-f]{32})$/;

/** A fresh thread id: 48 random bits, the key of a signed address. */
export function newEmailThreadId(): string {
  return randomBytes(6).toString("hex");
}

/**
 * Signed addresses and links of the email channel. Each carries a thread id (which maps to one
 * user and one conversation in the email store) and an HMAC-SHA256 over the purpose, the thread
 * id, the user and the conversation: changing any character, or using the token of one thread or
 * purpose for another, fails the check. Lower-case hex only, since mail systems may change the
 * case of a local part. The key is shared by every node (stored once in the delivery settings).
 */
export class EmailAddresses {
  private readonly key: Buffer;

  /**
   * @param key at least 32 bytes.
   * @param replyDomain `EMAIL_REPLY_DOMAIN`; without it there are no reply or bounce addresses.
   */
  constructor(
    key: Buffer,
    private readonly replyDomain?: string,
  ) {
    if (key.length < 32) throw new Error("The email signing key must hold at least 32 bytes");
    this.key = key;
  }

  /** Whether replies and bounces can be addressed to us (`EMAIL_REPLY_DOMAIN` is set). */
  get hasReplyDomain(): boolean {
    return this.replyDomain !== undefined;
  }

  /** The 32-character token of the thread for `purpose`. */
  token(purpose: EmailTokenPurpose, thread: Pick<EmailThread, "id" | "userId" | "conversationId">): string {
    return thread.id + this.mac(purpose, thread);
  }

  /** `reply+<token>@EMAIL_REPLY_DOMAIN`, or undefined without a reply domain. */
  replyAddress(thread: EmailThread): string | undefined {
    return this.replyDomain ? `reply+${this.token("reply", thread)}@${this.replyDomain}` : undefined;
  }

  /** `bounce+<token>@EMAIL_REPLY_DOMAIN` (the envelope sender, where DSNs go), or undefined without a reply domain. */
  bounceAddress(thread: EmailThread): string | undefined {
    return this.replyDomain ? `bounce+${this.token("bounce", thread)}@${this.replyDomain}` : undefined;
  }

  /** Splits a recipient address of ours into its purpose and token; null for anything else (another domain, no token, bad syntax). */
  parseAddress(address: string): ({ purpose: "reply" | "bounce" } & ParsedToken) | null {
    if (!this.replyDomain) return null;
    const at = address.lastIndexOf("@");
    if (at < 0 || address.slice(at + 1).toLowerCase() !== this.replyDomain) return null;
    const local = LOCAL_PART.exec(address.slice(0, at).toLowerCase());
    if (!local) return null;
    const token = parseToken(local[2]);
    return token ? { purpose: local[1] as "reply" | "bounce", ...token } : null;
  }

  /** Checks, in constant time, that `mac` was made by this key for the purpose and thread. */
  verify(purpose: EmailTokenPurpose, thread: Pick<EmailThread, "id" | "userId" | "conversationId">, mac: string): boolean {
    const expected = Buffer.from(this.mac(purpose, thread), "utf8");
    const given = Buffer.from(mac, "utf8");
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  private mac(purpose: EmailTokenPurpose, thread: Pick<EmailThread, "id" | "userId" | "conversationId">): string {
    return createHmac("sha256", this.key).update(`${purpose}\n${thread.id}\n${thread.userId}\n${thread.conversationId}`).digest("hex").slice(0, 20);
  }
}

/** Splits a 32-character token into thread id and MAC; null when it is not one. */
export function parseToken(token: string): ParsedToken | null {
  const match = TOKEN.exec(token);
  return match ? { threadId: match[1], mac: match[2] } : null;
}
