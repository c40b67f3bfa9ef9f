/**
 * The SMS compliance keywords, as Twilio's default opt-out handling recognises them: an inbound
 * text that consists of one of these words alone (ignoring case and surrounding whitespace) is
 * a consent instruction, not a chat message.
 */

/** What an inbound keyword asks for. */
export type SmsKeywordKind = "opt_out" | "opt_in" | "help";

/** A recognised keyword: its kind and the keyword as matched (upper case). */
export interface SmsKeyword {
  kind: SmsKeywordKind;
  keyword: string;
}

/** Twilio's standard opt-out keywords. */
export const OPT_OUT_KEYWORDS: readonly string[] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"];
/** Twilio's standard opt-in keywords. */
export const OPT_IN_KEYWORDS: readonly string[] = ["START", "YES", "UNSTOP"];
/** Twilio's standard help keywords. */
export const HELP_KEYWORDS: readonly string[] = ["HELP", "INFO"];

/** Twilio's default answer to an opt-out keyword. */
export const OPT_OUT_REPLY =
  "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.";
/** Twilio's default answer to an opt-in keyword. */
export const OPT_IN_REPLY =
  "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.";

const KINDS = new Map<string, SmsKeywordKind>([
  ...OPT_OUT_KEYWORDS.map((k) => [k, "opt_out"] as const),
  ...OPT_IN_KEYWORDS.map((k) => [k, "opt_in"] as const),
  ...HELP_KEYWORDS.map((k) => [k, "help"] as const),
]);

/**
 * The keyword `body` is, or null. Only a whole message counts ("stop" and " Stop\n" do,
 * "please stop" does not), so ordinary replies that merely contain a keyword reach the chat.
 */
export function classifySmsKeyword(body: string): SmsKeyword | null {
  const keyword = body.trim().toUpperCase();
  const kind = KINDS.get(keyword);
  return kind ? { kind, keyword } : null;
}

/** The standard answer to a keyword of `kind`; `helpText` is the configured HELP answer (`SMS_HELP_TEXT`). */
export function keywordReply(kind: SmsKeywordKind, helpText: string): string {
  switch (kind) {
    case "opt_out":
      return OPT_OUT_REPLY;
    case "opt_in":
      return OPT_IN_REPLY;
    case "help":
      return helpText;
    default: {
      const unknown: never = kind;
      throw new Error(`unknown keyword kind ${String(unknown)}`);
    }
  }
}
