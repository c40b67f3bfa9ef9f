import { describe, expect, it } from "vitest";
import { isTimeZone, quietHoursEnd } from "../server/src/delivery/quiet-hours.js";

/** Epoch ms of an ISO time. */
const t = (iso: string) => Date.parse(iso);
/** The end `quietHoursEnd` computes, as ISO, or null. */
const endOf = (window: { start: string; end: string; timeZone: string }, at: string) => {
  const end = quietHoursEnd(window, t(at));
  return end === null ? null : new Date(end).toISOString();
};

const BERLIN_NIGHT = { start: "22:00", end: "07:00", timeZone: "Europe/Berlin" };

describe("quiet hours", () => {
  it("holds a time inside a window across midnight until its end the next morning, in the user's zone", () => {
    // 23:30 in Berlin (winter, UTC+1): the window ends at 07:00 local, 06:00 UTC.
    expect(endOf(BERLIN_NIGHT, "2026-01-14T22:30:00Z")).toBe("2026-01-15T06:00:00.000Z");
    // 03:00 in Berlin, after midnight: the same morning's 07:00.
    expect(endOf(BERLIN_NIGHT, "2026-01-15T02:00:00Z")).toBe("2026-01-15T06:00:00.000Z");
    // Exactly 22:00 is inside; exactly 07:00 is outside.
    expect(endOf(BERLIN_NIGHT, "2026-01-14T21:00:00Z")).toBe("2026-01-15T06:00:00.000Z");
    expect(endOf(BERLIN_NIGHT, "2026-01-15T06:00:00Z")).toBeNull();
    // The afternoon is outside; so is 21:59.
    expect(endOf(BERLIN_NIGHT, "2026-01-15T13:00:00Z")).toBeNull();
    expect(endOf(BERLIN_NIGHT, "2026-01-15T20:59:00Z")).toBeNull();
  });

  it("handles a window within one day and a zone west of UTC", () => {
    const lunch = { start: "12:00", end: "13:30", timeZone: "America/New_York" };
    // 12:15 in New York (EST, UTC-5).
    expect(endOf(lunch, "2026-02-10T17:15:00Z")).toBe("2026-02-10T18:30:00.000Z");
    expect(endOf(lunch, "2026-02-10T16:59:00Z")).toBeNull();
    expect(endOf(lunch, "2026-02-10T18:30:00Z")).toBeNull();
    // In New York it is still the 10th at 02:00 UTC on the 11th: 21:00, outside a 22:00 window.
    expect(endOf({ start: "22:00", end: "06:00", timeZone: "America/New_York" }, "2026-02-11T02:00:00Z")).toBeNull();
    expect(endOf({ start: "22:00", end: "06:00", timeZone: "America/New_York" }, "2026-02-11T04:00:00Z")).toBe("2026-02-11T11:00:00.000Z");
  });

  it("ends at the local end time on the night the clocks spring forward and on the night they fall back", () => {
    // Berlin goes from UTC+1 to UTC+2 at 01:00 UTC on 29 March 2026: the night is an hour shorter.
    expect(endOf(BERLIN_NIGHT, "2026-03-28T22:30:00Z")).toBe("2026-03-29T05:00:00.000Z");
    // And back to UTC+1 at 01:00 UTC on 25 October 2026: an hour longer.
    expect(endOf(BERLIN_NIGHT, "2026-10-24T21:00:00Z")).toBe("2026-10-25T06:00:00.000Z");
    // New York springs forward on 8 March 2026 (07:00 UTC).
    expect(endOf({ start: "23:00", end: "08:00", timeZone: "America/New_York" }, "2026-03-08T05:00:00Z")).toBe("2026-03-08T12:00:00.000Z");
  });

  it("ends just after the gap when the end time does not exist, and at its first occurrence still ahead when it happens twice", () => {
    // 02:30 does not exist in Berlin on 29 March 2026 (02:00 jumps to 03:00): the window ends at 03:30 CEST.
    expect(endOf({ start: "01:00", end: "02:30", timeZone: "Europe/Berlin" }, "2026-03-29T00:15:00Z")).toBe("2026-03-29T01:30:00.000Z");
    // 02:30 happens twice in Berlin on 25 October 2026: first in CEST (00:30 UTC), then in CET (01:30 UTC).
    const night = { start: "00:00", end: "02:30", timeZone: "Europe/Berlin" };
    expect(endOf(night, "2026-10-25T00:10:00Z")).toBe("2026-10-25T00:30:00.000Z");
    // Past the first 02:30, during the repeated hour (02:10 CET): the window ends at the second one.
    expect(endOf(night, "2026-10-25T01:10:00Z")).toBe("2026-10-25T01:30:00.000Z");
  });

  it("treats equal start and end, and no quiet hours, as no window", () => {
    expect(quietHoursEnd({ start: "08:00", end: "08:00", timeZone: "UTC" }, t("2026-01-01T08:00:00Z"))).toBeNull();
    expect(quietHoursEnd(undefined, Date.now())).toBeNull();
  });

  it("knows IANA time zones and their aliases, and nothing else", () => {
    for (const zone of ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC", "Etc/GMT+5"]) expect(isTimeZone(zone)).toBe(true);
    for (const zone of ["Mars/Olympus_Mons", "", "Berlin", "+02:00", "x".repeat(65)]) expect(isTimeZone(zone)).toBe(false);
  });
});
