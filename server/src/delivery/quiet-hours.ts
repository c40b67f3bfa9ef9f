/**
 * Quiet hours: a daily window in a user's own time zone in which no offline notification goes
 * out. Time zones are handled by the runtime's `Intl` (the IANA database Node ships with), so
 * windows across midnight and daylight-saving changes need no tables of our own.
 */

/** A user's quiet hours, e.g. `{ start: "22:00", end: "07:00", timeZone: "Europe/Berlin" }`. */
export interface QuietHours {
  /** `HH:MM`, 24-hour, local to `timeZone`: the window opens (inclusive). */
  start: string;
  /** `HH:MM`, 24-hour: the window closes (exclusive); earlier than `start` means the next day. */
  end: string;
  /** An IANA time zone name such as `Europe/Berlin` or `America/New_York`. */
  timeZone: string;
}

/** `HH:MM`, 00:00 to 23:59. */
export const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

/** One formatter per zone: building one costs far more than formatting with it. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    // A handful of zones per deployment in practice; the bound only stops a flood of odd names.
    if (formatters.size > 1000) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the runtime knows `name` as a time zone (IANA names and their aliases, such as `UTC`). */
export function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    formatter(name);
    return true;
  } catch {
    return false;
  }
}

/** The wall clock in `timeZone` at `at` (epoch ms), as the epoch ms of the same wall time in UTC. */
function wallClock(at: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
}

/** The zone's offset from UTC at `at`, in ms (Berlin in summer: +7,200,000). */
function offsetAt(at: number, timeZone: string): number {
  const whole = Math.floor(at / 1000) * 1000;
  return wallClock(whole, timeZone) - whole;
}

function minutes(clock: string): number {
  return Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
}

/**
 * The first instant after `after` at which the wall clock in `timeZone` shows `wall` (a wall
 * time expressed as UTC epoch ms). When clocks fall back the wall time happens twice: the
 * earliest one still ahead wins. When they spring forward it may not happen at all: the instant
 * the standard offset arithmetic lands on, just past the gap, is used.
 */
function instantOfWallTime(wall: number, timeZone: string, after: number): number {
  const guess = wall - offsetAt(wall, timeZone);
  const settled = wall - offsetAt(guess, timeZone);
  const candidates = [guess, settled, wall - offsetAt(after, timeZone)].filter((t) => t > after && wallClock(t, timeZone) === wall);
  if (candidates.length > 0) return Math.min(...candidates);
  return settled > after ? settled : after + 60_000;
}

/**
 * When `at` (epoch ms) falls inside the quiet hours: the epoch ms at which they end. Otherwise
 * (or without quiet hours) null. A window whose end is earlier than its start runs across
 * midnight (`22:00`–`07:00`); equal start and end is no window.
 */
export function quietHoursEnd(quietHours: QuietHours | undefined, at: number): number | null {
  if (!quietHours) return null;
  const start = minutes(quietHours.start);
  const end = minutes(quietHours.end);
  if (start === end) return null;
  const local = new Date(wallClock(at, quietHours.timeZone));
  const now = local.getUTCHours() * 60 + local.getUTCMinutes();
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  // Across midnight and already past the start: the window closes tomorrow.
  const days = start > end && now >= start ? 1 : 0;
  const endWall = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + days, Math.floor(end / 60), end % 60);
  return instantOfWallTime(endWall, quietHours.timeZone, at);
}

/** `22:00–07:00 Europe/Berlin`, for timelines and logs. */
export function describeQuietHours(quietHours: QuietHours): string {
  return `${quietHours.start}–${quietHours.end} ${quietHours.timeZone}`;
}
