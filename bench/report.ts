/**
 * The benchmark's results table: one row per (scenario, metric) with Switchboard beside the
 * bare Socket.IO baseline, their ratio, the target and whether it is met.
 */

/** One line of the table. */
export interface Row {
  scenario: string;
  metric: string;
  switchboard: number | string | null;
  bare: number | string | null;
  /** Switchboard ÷ bare, when both are numbers. */
  ratio: number | null;
  target: string;
  /** `null` when the row has no target or a value is missing. */
  met: boolean | null;
}

/** Builds a row; `check` decides `met` from the two values (omit for information rows). */
export function row(
  scenario: string,
  metric: string,
  switchboard: number | string | null | undefined,
  bare: number | string | null | undefined,
  target = "",
  check?: (sb: number, bare: number | null, ratio: number | null) => boolean,
): Row {
  const sb = switchboard ?? null;
  const b = bare ?? null;
  const ratio = typeof sb === "number" && typeof b === "number" && b !== 0 ? Math.round((sb / b) * 100) / 100 : null;
  const met = check && typeof sb === "number" ? check(sb, typeof b === "number" ? b : null, ratio) : null;
  return { scenario, metric, switchboard: sb, bare: b, ratio, target, met };
}

function cell(v: number | string | null): string {
  if (v === null) return "-";
  if (typeof v === "string") return v;
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  const abs = Math.abs(v);
  return v.toLocaleString("en-US", { maximumFractionDigits: abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3 });
}

/** The rows as an aligned plain-text table. */
export function formatTable(rows: Row[]): string {
  const header = ["scenario", "metric", "Switchboard", "bare", "ratio", "target", "met?"];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    cell(r.switchboard),
    cell(r.bare),
    r.ratio === null ? "-" : `${cell(r.ratio)}x`,
    r.target || "-",
    r.met === null ? "" : r.met ? "met" : "MISSED",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const numeric = new Set([2, 3, 4]);
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  let previous = "";
  for (const [i, b] of body.entries()) {
    if (previous && rows[i].scenario !== previous) out.push("");
    previous = rows[i].scenario;
    out.push(line(b));
  }
  return out.join("\n");
}
