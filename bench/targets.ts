/**
 * Issue 13's Done-when targets, one per row the summary reads: `scenario` is the start of a
 * table row's scenario label, `metric` its metric, and `compare` how the row's figure (or, with
 * `ratio`, its ratio to bare) must stand to `target`. bigroom's part; the writepath helper's
 * `--quick` summary prints one `<scenario> <figure> met|MISSED` line per entry.
 */
export interface Target {
  scenario: string;
  metric: string;
  target: number;
  compare: "<=" | ">=";
  /** Compare the Switchboard ÷ bare ratio instead of the figure. */
  ratio?: boolean;
}

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
