/**
 * SMS encoding and segmentation (3GPP TS 23.038, formerly GSM 03.38, and TS 23.040 for the
 * concatenation header), counted the way carriers bill and Twilio's segment calculator shows:
 * a text is GSM-7 when every character is in the default alphabet or its extension table,
 * otherwise UCS-2 (UTF-16 in practice, so a character outside the BMP takes two units).
 */

/** How a text travels over SMS. */
export type SmsEncodingName = "GSM-7" | "UCS-2";

/** What {@link smsEncoding} found. */
export interface SmsEncodingInfo {
  encoding: SmsEncodingName;
  /** Septets (GSM-7; an extension character counts 2) or UTF-16 code units (UCS-2). */
  units: number;
  /** How many messages the text is sent as (at least 1). */
  segments: number;
  /** Units one segment holds: 160 / 70 for a single message, 153 / 67 once concatenated. */
  perSegment: number;
}

/**
 * The GSM 03.38 default alphabet, in table order (0x00 to 0x7F) without the escape code 0x1B.
 * Each takes one septet.
 */
const GSM7_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/** The extension table: each is sent as the escape septet plus one, so it takes two. */
const GSM7_EXTENSION = "\f^{}\\[~]|€";

const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

/** Single-message and per-part capacities; a part of a concatenated text loses 6 octets to the UDH. */
const CAPACITY: Record<SmsEncodingName, { single: number; multi: number }> = {
  "GSM-7": { single: 160, multi: 153 },
  "UCS-2": { single: 70, multi: 67 },
};

/** True when `text` can be sent as GSM-7 (default alphabet and extension table only). */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENSION.has(ch)) return false;
  return true;
}

/**
 * The encoding of `text`, its length in that encoding's units and how many segments it takes.
 * Segments are filled greedily and a character never straddles two of them: an escape pair
 * (extension character) or a surrogate pair (emoji) that does not fit in what is left of a
 * segment starts the next one, as handsets and Twilio do, so such texts may need one more part
 * than `units / perSegment` suggests.
 */
export function smsEncoding(text: string): SmsEncodingInfo {
  const encoding: SmsEncodingName = isGsm7(text) ? "GSM-7" : "UCS-2";
  const sizes = unitSizes(text, encoding);
  const units = sizes.reduce((sum, n) => sum + n, 0);
  const { single, multi } = CAPACITY[encoding];
  if (units <= single) return { encoding, units, segments: 1, perSegment: single };
  return { encoding, units, segments: countSegments(sizes, multi), perSegment: multi };
}

/**
 * `text` cut so that it fits in `maxSegments` segments, with an ellipsis (and then `options.after`,
 * kept whole) at the end; `text` unchanged (plus `after`) when it fits already. The cut falls
 * between grapheme clusters, so neither an emoji sequence nor an accented letter is broken, and
 * trailing spaces before the ellipsis are dropped.
 *
 * The ellipsis is "…" for a UCS-2 text and "..." for a GSM-7 one ("…" is not in the GSM alphabet
 * and would switch the whole text to UCS-2, more than halving what fits).
 *
 * @param maxSegments at least 1.
 * @param options.after appended after the ellipsis and never cut (a footer such as "Reply to answer.").
 */
export function truncateSms(text: string, maxSegments: number, options: { after?: string } = {}): string {
  if (!Number.isInteger(maxSegments) || maxSegments < 1) throw new RangeError(`maxSegments must be a positive integer, got ${maxSegments}`);
  const after = options.after ?? "";
  const fits = (candidate: string) => smsEncoding(candidate).segments <= maxSegments;
  if (fits(text + after)) return text + after;

  const graphemes = [...new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text)].map((s) => s.segment);
  // Prefix end offsets (in UTF-16 units) after each grapheme, so a prefix is one slice.
  const ends: number[] = [];
  let offset = 0;
  for (const g of graphemes) ends.push((offset += g.length));
  const candidate = (count: number): string => {
    const kept = text.slice(0, count === 0 ? 0 : ends[count - 1]).trimEnd();
    return kept + (isGsm7(kept + after) ? "..." : "…") + after;
  };

  // Whether a prefix is GSM-7 only changes once (at the first non-GSM character); on each side
  // of that point "fits" is monotonic in the prefix length, so search each side separately.
  const firstNonGsm = graphemes.findIndex((g) => !isGsm7(g));
  const gsmEnd = firstNonGsm === -1 ? graphemes.length : firstNonGsm;
  const best = Math.max(longestFitting(0, gsmEnd, candidate, fits), longestFitting(gsmEnd + 1, graphemes.length, candidate, fits));
  if (best >= 0) return candidate(best);
  // Not even the ellipsis and `after` fit: cut `after` itself, as the last resort.
  return after ? truncateSms(after, maxSegments) : "";
}

/** The largest count in [low, high] whose candidate fits, or -1; `fits` must be monotonic there. */
function longestFitting(low: number, high: number, candidate: (count: number) => string, fits: (text: string) => boolean): number {
  let best = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (fits(candidate(mid))) {
      best = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return best;
}

/** The size of each character (code point) of `text` in `encoding`'s units. */
function unitSizes(text: string, encoding: SmsEncodingName): number[] {
  const sizes: number[] = [];
  for (const ch of text) sizes.push(encoding === "GSM-7" ? (EXTENSION.has(ch) ? 2 : 1) : ch.length);
  return sizes;
}

/** Segments needed when no character may be split across two of them. */
function countSegments(sizes: number[], perSegment: number): number {
  let segments = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > perSegment) {
      segments += 1;
      used = 0;
    }
    used += size;
  }
  return segments;
}
