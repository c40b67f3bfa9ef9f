import type { SupportTicket } from "../../../client-sdk/src/index.js";

/** `14:05`, or `Mar 3` for another day. */
export function shortTime(iso: string, now = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  const sameDay = at.toDateString() === now.toDateString();
  return sameDay
    ? at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : at.toLocaleDateString(undefined, { month: "short", day: "numeric" });
}

/** A visitor's display name: the one they gave, else "Visitor" and a short tag from their id. */
export function visitorName(ticket: Pick<SupportTicket, "visitorId" | "names">): string {
  const named = ticket.names[ticket.visitorId];
  if (named) return named;
  const tail = ticket.visitorId.replace(/^(visitor:v_|customer:)/, "").replace(/[^A-Za-z0-9]/g, "").slice(-4).toUpperCase();
  return `Visitor ${tail}`;
}

/** Initials for an avatar: up to two letters. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  return (words.length > 1 ? words[0]![0]! + words[1]![0]! : (words[0] ?? "?").slice(0, 2)).toUpperCase();
}
