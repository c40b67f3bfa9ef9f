import { randomBytes } from "node:crypto";

/**
 * `<prefix>` + the time in base 36 (fixed width) + 16 random hex digits: ids that sort by
 * creation, which logs and outboxes page by, and never collide across nodes.
 */
export function sortableId(prefix: string): string {
  return `${prefix}${Date.now().toString(36).padStart(9, "0")}${randomBytes(8).toString("hex")}`;
}
