/**
 * The Done-when targets of the benchmark (issue 13), in one table, and the summary lines that end
 * every run (quick or full): one line per target,
 *
 *   `<scenario> <metric> <value> (<ratio>x vs bare | target T) met|MISSED`
 *
 * A target names a row of the results table by the start of its scenario label (labels carry the
 * run's scale, e.g. "4b acks K=50 6s, sync=FULL", so the stable prefix "4b acks" names it) and its
 * exact metric. A target is printed when its scenario ran, i.e. some row's label starts with its
 * `scenario`; one whose own row is missing or not a number (the scenario failed or was skipped)
 * prints "not measured" and MISSED. Printed, never asserted.
 */
import type { Row } from "./report.js";

/** One Done-when target. */
export interface Target {
  /** The start of the row's scenario label, e.g. "4b acks". */
  scenario: string;
  /** The row's metric, exactly as in the table, e.g. "acked sends/s". */
  metric: string;
  /** The bound. */
  target: number;
  compare: "<=" | ">=";
  /** Compare the Switchboard ÷ bare ratio instead of Switchboard's figure. */
  ratio?: boolean;
}

/** Group commit, history, the reconnect storm and the quick run's budget. */
export const WRITEPATH_TARGETS: Target[] = [
  { scenario: "4b acks", metric: "acked sends/s", target: 0.7, compare: ">=", ratio: true },
  { scenario: "4b acks", metric: "CPU ms / 1k acked sends", target: 1.5, compare: "<=", ratio: true },
  { scenario: "7 history", metric: "first page p99 (ms)", target: 10, compare: "<=" },
  { scenario: "7 history", metric: "deep page p99 (ms)", target: 10, compare: "<=" },
  { scenario: "8 reconnect storm", metric: "reconnect+resync p95 (s)", target: 5, compare: "<=" },
  { scenario: "8 reconnect storm", metric: "clients stranded", target: 0, compare: "<=" },
  { scenario: "8 reconnect storm", metric: "acked messages delivered to every member (%)", target: 100, compare: ">=" },
  { scenario: "quick run", metric: "wall time (s)", target: 90, compare: "<=" },
];

/** Presence, Redis work per message, delivery CPU, connect cost, idle memory and the big room. */
export const BIGROOM_TARGETS: Target[] = [
  { scenario: "3 fan-out", metric: "presence frames per member", target: 10, compare: "<=" },
  { scenario: "3 fan-out", metric: "setup: connect+join (s)", target: 2, compare: "<=", ratio: true },
  { scenario: "2 cross-node", metric: "Redis commands per message", target: 5, compare: "<=" },
  { scenario: "3 fan-out", metric: "Redis commands per message", target: 5, compare: "<=" },
  { scenario: "2 cross-node", metric: "CPU ms / 1k deliveries", target: 1.3, compare: "<=", ratio: true },
  { scenario: "3 fan-out", metric: "CPU ms / 1k deliveries", target: 1.3, compare: "<=", ratio: true },
  { scenario: "2 cross-node", metric: "cross-node p99 (ms)", target: 15, compare: "<=" },
  { scenario: "1 idle", metric: "connections accepted per s", target: 0.8, compare: ">=", ratio: true },
  { scenario: "1 idle", metric: "RSS per connection (KB)", target: 1.1, compare: "<=", ratio: true },
  { scenario: "6 big room", metric: "lost deliveries", target: 0, compare: "<=" },
];

/** Every Done-when target of issue 13. */
export const TARGETS: Target[] = [...WRITEPATH_TARGETS, ...BIGROOM_TARGETS];

/** Whether `value` meets `t`. */
export function meets(t: Target, value: number): boolean {
  return t.compare === "<=" ? value <= t.target : value >= t.target;
}

function figure(v: number | string | null): string {
  if (typeof v !== "number") return String(v ?? "-");
  return v.toLocaleString("en-US", { maximumFractionDigits: Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2 });
}

/** The targets as a row check (`row(…, target, check)`), so the table's met? column agrees with the summary. */
export function targetText(t: Target): string {
  return `${t.compare} ${figure(t.target)}${t.ratio ? "x bare" : ""}`;
}

/** The summary lines for the targets whose scenario ran (some row's label starts with its `scenario`). */
export function summaryLines(rows: Row[], targets: readonly Target[] = TARGETS): string[] {
  const lines: string[] = [];
  for (const t of targets) {
    if (!rows.some((x) => x.scenario.startsWith(t.scenario))) continue;
    const r = rows.find((x) => x.scenario.startsWith(t.scenario) && x.metric === t.metric);
    const name = `${t.scenario}: ${t.metric}`;
    if (!r || typeof r.switchboard !== "number" || (t.ratio && r.ratio === null)) {
      lines.push(`${name} not measured (${r ? `${figure(r.switchboard)} / ${figure(r.bare)}` : "no row"}; target ${targetText(t)}) MISSED`);
      continue;
    }
    const value = t.ratio ? r.ratio! : r.switchboard;
    const context = t.ratio ? `${figure(r.ratio)}x vs bare ${figure(r.bare)}, target ${targetText(t)}` : `target ${targetText(t)}`;
    lines.push(`${name} ${figure(r.switchboard)} (${context}) ${meets(t, value) ? "met" : "MISSED"}`);
  }
  return lines;
}
