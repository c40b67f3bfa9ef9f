import { describe, expect, it } from "vitest";
import { isGsm7, smsEncoding, truncateSms } from "../server/src/delivery/sms/sms-encoding.js";

const EMOJI = "😀"; // U+1F600: a surrogate pair, two UTF-16 units

describe("smsEncoding", () => {
  it("sends 160 GSM-7 characters as one segment and 161 as two", () => {
    expect(smsEncoding("a".repeat(160))).toEqual({ encoding: "GSM-7", units: 160, segments: 1, perSegment: 160 });
    expect(smsEncoding("a".repeat(161))).toEqual({ encoding: "GSM-7", units: 161, segments: 2, perSegment: 153 });
  });

  it("fits 306 GSM-7 characters in two concatenated segments of 153 and needs three for 307", () => {
    expect(smsEncoding("x".repeat(306)).segments).toBe(2);
    expect(smsEncoding("x".repeat(307)).segments).toBe(3);
    expect(smsEncoding("x".repeat(459)).segments).toBe(3);
    expect(smsEncoding("x".repeat(460)).segments).toBe(4);
  });

  it("counts every character of the extension table as two septets", () => {
    for (const ch of ["^", "{", "}", "\\", "[", "~", "]", "|", "€", "\f"]) {
      expect(smsEncoding(ch), JSON.stringify(ch)).toMatchObject({ encoding: "GSM-7", units: 2 });
    }
    expect(smsEncoding("€".repeat(80))).toEqual({ encoding: "GSM-7", units: 160, segments: 1, perSegment: 160 });
    expect(smsEncoding("€".repeat(81))).toMatchObject({ encoding: "GSM-7", units: 162, segments: 2 });
  });

  it("keeps the accented letters and Greek capitals of the default alphabet in GSM-7", () => {
    const text = "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r";
    expect(isGsm7(text)).toBe(true);
    expect(smsEncoding(text).units).toBe([...text].length);
  });

  it("sends 70 UCS-2 units as one segment and 71 as two of 67", () => {
    expect(smsEncoding("ж".repeat(70))).toEqual({ encoding: "UCS-2", units: 70, segments: 1, perSegment: 70 });
    expect(smsEncoding("ж".repeat(71))).toEqual({ encoding: "UCS-2", units: 71, segments: 2, perSegment: 67 });
    expect(smsEncoding("ж".repeat(134)).segments).toBe(2);
    expect(smsEncoding("ж".repeat(135)).segments).toBe(3);
  });

  it("counts an emoji as two UCS-2 units", () => {
    expect(smsEncoding(EMOJI)).toMatchObject({ encoding: "UCS-2", units: 2, segments: 1 });
    expect(smsEncoding(EMOJI.repeat(35))).toMatchObject({ units: 70, segments: 1 });
    expect(smsEncoding(EMOJI.repeat(36))).toMatchObject({ units: 72, segments: 2 });
  });

  it("switches the whole text to UCS-2 when a single character is outside GSM-7", () => {
    const gsm = "Meet at the usual place at 5, bring the slides please";
    expect(smsEncoding(gsm).encoding).toBe("GSM-7");
    const mixed = `${gsm} ${EMOJI}`;
    expect(smsEncoding(mixed)).toMatchObject({ encoding: "UCS-2", units: gsm.length + 3 });
    // A typographic apostrophe is enough, as phone keyboards often produce.
    expect(smsEncoding("it’s fine").encoding).toBe("UCS-2");
  });

  it("moves an escape pair that would straddle a segment boundary to the next segment", () => {
    // 152 septets, then '€' (2): it would need septets 153 and 154, so it starts segment 2.
    const straddling = "a".repeat(152) + "€" + "a".repeat(152);
    // 152 + 2 + 152 = 306 septets, which would fit 2 × 153 if the pair could be split.
    expect(smsEncoding(straddling)).toMatchObject({ encoding: "GSM-7", units: 306, segments: 3 });
    const aligned = "a".repeat(151) + "€" + "a".repeat(153);
    expect(smsEncoding(aligned)).toMatchObject({ units: 306, segments: 2 });
  });

  it("moves a surrogate pair that would straddle a segment boundary to the next segment", () => {
    // 66 units, then an emoji (2): it starts segment 2.
    const straddling = "ж".repeat(66) + EMOJI + "ж".repeat(66);
    expect(smsEncoding(straddling)).toMatchObject({ encoding: "UCS-2", units: 134, segments: 3 });
    const aligned = "ж".repeat(65) + EMOJI + "ж".repeat(67);
    expect(smsEncoding(aligned)).toMatchObject({ units: 134, segments: 2 });
  });

  it("counts an empty text as one segment", () => {
    expect(smsEncoding("")).toEqual({ encoding: "GSM-7", units: 0, segments: 1, perSegment: 160 });
  });
});

describe("truncateSms", () => {
  it("returns a text that fits unchanged", () => {
    expect(truncateSms("short", 1)).toBe("short");
    expect(truncateSms("a".repeat(160), 1)).toBe("a".repeat(160));
  });

  it("cuts a GSM-7 text with three dots so it stays GSM-7 and fills the segments", () => {
    const cut = truncateSms("word ".repeat(200), 3);
    expect(cut.endsWith("...")).toBe(true);
    expect(cut).not.toContain("…");
    const info = smsEncoding(cut);
    expect(info).toMatchObject({ encoding: "GSM-7", segments: 3 });
    expect(info.units).toBeGreaterThan(3 * 153 - 8);
  });

  it("cuts a UCS-2 text with a single ellipsis character and never splits an emoji", () => {
    const cut = truncateSms(EMOJI.repeat(100), 1);
    expect(cut).toBe(EMOJI.repeat(34) + "…");
    expect(smsEncoding(cut)).toMatchObject({ encoding: "UCS-2", units: 69, segments: 1 });
  });

  it("uses three dots when the characters that needed UCS-2 are the ones cut off", () => {
    const cut = truncateSms("a".repeat(200) + EMOJI, 1);
    expect(cut).toBe("a".repeat(157) + "...");
    expect(smsEncoding(cut)).toMatchObject({ encoding: "GSM-7", segments: 1 });
  });

  it("keeps the text given as `after` whole after the ellipsis", () => {
    const cut = truncateSms("x".repeat(1000), 2, { after: "\nReply to answer." });
    expect(cut.endsWith("...\nReply to answer.")).toBe(true);
    expect(smsEncoding(cut).segments).toBe(2);
  });

  it("does not break an emoji sequence joined with zero-width joiners", () => {
    const family = "👨‍👩‍👧"; // 3 emoji joined: 8 UTF-16 units, one grapheme
    const cut = truncateSms(family.repeat(20), 1);
    expect(cut.slice(0, -1).length % family.length).toBe(0);
    expect(cut.endsWith("…")).toBe(true);
  });
});
