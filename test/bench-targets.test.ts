import { describe, expect, it } from "vitest";
import { row } from "../bench/report.js";
import { summaryLines, type Target } from "../bench/targets.js";

const targets: Target[] = [
  { scenario: "4b acks", metric: "acked sends/s", target: 0.7, compare: ">=", ratio: true },
  { scenario: "7 history", metric: "deep page p99 (ms)", target: 10, compare: "<=" },
  { scenario: "8 reconnect storm", metric: "clients stranded", target: 0, compare: "<=" },
  { scenario: "quick run", metric: "wall time (s)", target: 90, compare: "<=" },
];

describe("the benchmark's target summary", () => {
  it("prints one line per target of the scenarios that ran, comparing the ratio or the figure, with met or MISSED", () => {
    const rows = [
      row("4b acks K=50 6s, sync=FULL", "acked sends/s", 2400, 3000),
      row("7 history, 1,000,000 msgs", "deep page p99 (ms)", 12.5, null),
      row("8 reconnect storm, 5000 SDK clients", "clients stranded", 0, null),
    ];
    expect(summaryLines(rows, targets)).toEqual([
      "4b acks: acked sends/s 2,400 (0.8x vs bare 3,000, target >= 0.7x bare) met",
      "7 history: deep page p99 (ms) 12.5 (target <= 10) MISSED",
      "8 reconnect storm: clients stranded 0 (target <= 0) met",
    ]);
  });

  it("reports a target whose scenario ran without producing its row as not measured and MISSED, and leaves out scenarios not run", () => {
    const rows = [row("8 reconnect storm, 500 SDK clients", "result", "failed", null), row("quick run", "wall time (s)", 72, null)];
    expect(summaryLines(rows, targets)).toEqual([
      "8 reconnect storm: clients stranded not measured (no row; target <= 0) MISSED",
      "quick run: wall time (s) 72 (target <= 90) met",
    ]);
  });
});
