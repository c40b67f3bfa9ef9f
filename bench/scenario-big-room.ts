/**
 * Scenario 6 (`bigroom`): one conversation of 10,000 members on two nodes, beside bare Socket.IO
 * doing the same. The clients are spread over every load worker (each stays well under the
 * 20,000 descriptors a process may open). Measures the time for all to connect and join, the
 * presence frames that reached the members while they did (and after), the delivery p99 of a
 * message to all, lost deliveries, Redis commands per message and CPU per delivery.
 */
import { row, type Row } from "./report.js";
import { deliveryRun, withDeployment, type BenchContext, type DeliveryParams, type DeliveryResult } from "./scenarios.js";

/** Parameters of {@link bigRoom}. */
export interface BigRoomParams {
  members: number;
  ratePerSec: number;
  durationSeconds: number;
}

/** Both systems' runs; a failure is its message. */
export interface BigRoomResults {
  switchboard?: DeliveryResult | { error: string };
  bare?: DeliveryResult | { error: string };
}

/** The member list of 10,000 ids is about 250 KB of JSON, above the default 64 KB body limit. */
const BIG_ROOM_ENV = { MAX_HTTP_BODY_BYTES: String(4 * 1024 * 1024) };

function deliveryParams(p: BigRoomParams): DeliveryParams {
  return {
    conversations: 1,
    membersPerConversation: p.members,
    ratePerSec: p.ratePerSec,
    durationSeconds: p.durationSeconds,
    warmupSeconds: 1,
    nodes: 2,
    nodeOf: (_c, m) => m % 2,
  };
}

/** Seconds one system's run is expected to take (its deadline is about twice this). */
export function bigRoomEstimateSeconds(p: BigRoomParams): number {
  return 20 + p.members / 150 + p.durationSeconds;
}

/** One system's run of the scenario on a fresh two-node deployment. */
export function bigRoom(ctx: BenchContext, system: "switchboard" | "bare", p: BigRoomParams): Promise<DeliveryResult> {
  return withDeployment(ctx, system, { nodes: 2, adapter: "classic", env: BIG_ROOM_ENV }, (dep) => deliveryRun(ctx, dep, `big-${system === "bare" ? "bare" : "sb"}`, deliveryParams(p)));
}

/** Presence frames (per-member updates and occupancy counts) each member received, setup and after. */
export function presenceFramesPerMember(d: DeliveryResult): number {
  const count = (events: Record<string, number>) => (events["presence:update"] ?? 0) + (events["presence:occupancy"] ?? 0);
  const frames = count(d.otherEventsDuringSetup) + count(d.otherEventsAfterSetup ?? {});
  return d.connected ? Math.round((frames / d.connected) * 100) / 100 : 0;
}

/** Redis commands (INFO commandstats, Lua scripts' inner commands included) per acknowledged message. */
export function redisCommandsPerMessage(d: DeliveryResult): number | undefined {
  return d.acked ? Math.round((Object.values(d.redisCommands.run).reduce((a, c) => a + c, 0) / d.acked) * 100) / 100 : undefined;
}

/** The table rows of the scenario. */
export function bigRoomRows(r: BigRoomResults, p: BigRoomParams, notes: string[]): Row[] {
  const ok = (o: BigRoomResults["switchboard"]) => (o && !("error" in o) ? o : undefined);
  const show = (o: BigRoomResults["switchboard"]) => (o && "error" in o ? "failed" : null);
  for (const [name, o] of [["Switchboard", r.switchboard], ["bare", r.bare]] as const) {
    if (o && "error" in o) notes.push(`6 big room (${name}): FAILED: ${o.error}`);
  }
  const sb = ok(r.switchboard);
  const b = ok(r.bare);
  const s = `6 big room ${p.members} members @${p.ratePerSec}/s ${p.durationSeconds}s`;
  if (!sb && !b) return [row(s, "result", show(r.switchboard), show(r.bare))];
  const rows = [
    row(s, "setup: connect+join (s)", sb?.setupSeconds ?? show(r.switchboard), b?.setupSeconds ?? show(r.bare)),
    row(s, "presence frames per member", sb ? presenceFramesPerMember(sb) : null, b ? presenceFramesPerMember(b) : null),
    row(s, "delivery p50 (ms)", sb?.all.p50, b?.all.p50),
    row(s, "delivery p99 (ms)", sb?.all.p99, b?.all.p99),
    row(s, "lost deliveries", sb?.lost, b?.lost, "0", (x) => x === 0),
    row(s, "Redis commands per message", sb ? redisCommandsPerMessage(sb) : null, b ? redisCommandsPerMessage(b) : null),
    row(s, "CPU ms / 1k deliveries", sb?.cpuMsPer1kDeliveries, b?.cpuMsPer1kDeliveries),
  ];
  if (sb?.failed) notes.push(`${s}: ${sb.failed} sends failed: ${sb.sendErrors.join("; ")}`);
  const lag = sb?.eventLoopLag.filter((l): l is { p99Ms: number; maxMs: number } => l !== null) ?? [];
  if (lag.length) notes.push(`${s}: Switchboard event-loop delay during the run: ${lag.map((l, i) => `node ${i} p99 ${l.p99Ms.toFixed(1)} ms, max ${l.maxMs.toFixed(1)} ms`).join("; ")}`);
  return rows;
}
