// One schedule of a simulation (issue 11; TigerBeetle's VOPR): from a seed, a cluster of 3–7
// nodes, a faulty phase of random actions — message loss on a reconnect, partitions one way and
// both ways, daemon kills and restarts, stop, continue, ban — while clients write and delete,
// then a healed phase that must converge within a bound, then the final checks. The actions are
// drawn from the seed, or given (a replay or a shrunk list); the trace says what happened.
import { lostWrites } from './checkers.js';
import { SimCluster } from './cluster.js';
import type { DaemonName } from './node.js';
import { Prng } from './prng.js';

export type Action =
  | { t: 'drop'; from: number; to: number }
  | { t: 'isolate'; pnn: number }
  | { t: 'split'; a: number[] }
  | { t: 'oneway'; pnn: number }
  | { t: 'heal' }
  | { t: 'kill'; pnn: number; daemon: DaemonName }
  | { t: 'restart'; pnn: number; daemon: DaemonName }
  | { t: 'stop'; pnn: number }
  | { t: 'cont'; pnn: number }
  | { t: 'ban'; pnn: number }
  | { t: 'unban'; pnn: number }
  | { t: 'failstep'; pnn: number; step: string }
  | { t: 'quiet' };

/** An action and the simulated time that runs after it. */
export interface Step {
  action: Action;
  waitMs: number;
}

export interface ScheduleOptions {
  seed: number;
  /** Given steps replace the ones drawn from the seed (replay, shrinking). */
  steps?: Step[];
  nodes?: number;
  stepsMax?: number;
  watchKey?: string;
  logs?: boolean;
}

export interface ScheduleResult {
  seed: number;
  nodes: number;
  ok: boolean;
  violations: string[];
  steps: Step[];
  trace: string[];
  simMs: number;
  events: number;
}

/** How long a healed cluster has to converge (simulated). */
export const convergeBoundMs = 30_000;
const daemons: DaemonName[] = ['dbd', 'recoverd', 'vacuumd'];
/** Recovery controls a node can be made to fail (run/faults.json "failStep"), until the heal. */
const recoverySteps = ['freeze', 'pullDb', 'pushDbStart', 'pushDbCommit', 'installGeneration', 'thaw'];

export function describe(a: Action): string {
  return Object.entries(a).map(([k, v]) => (k === 't' ? String(v) : `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)).join(' ');
}

/** The faulty phase's steps, drawn from the seed. */
export function drawSteps(rng: Prng, nodes: number, count: number): Step[] {
  const pnn = (): number => rng.int(nodes);
  const steps: Step[] = [];
  for (let i = 0; i < count; i++) {
    const r = rng.next();
    let action: Action;
    if (r < 0.25) action = { t: 'quiet' };
    else if (r < 0.35) action = { t: 'drop', from: pnn(), to: pnn() };
    else if (r < 0.43) action = { t: 'isolate', pnn: pnn() };
    else if (r < 0.48) action = { t: 'split', a: Array.from({ length: nodes }, (_, p) => p).filter(() => rng.chance(0.5)) };
    else if (r < 0.55) action = { t: 'oneway', pnn: pnn() };
    else if (r < 0.65) action = { t: 'heal' };
    else if (r < 0.75) action = { t: 'kill', pnn: pnn(), daemon: rng.pick(daemons) };
    else if (r < 0.83) action = { t: 'restart', pnn: pnn(), daemon: rng.pick(daemons) };
    else if (r < 0.88) action = { t: 'stop', pnn: pnn() };
    else if (r < 0.93) action = { t: 'cont', pnn: pnn() };
    else if (r < 0.95) action = { t: 'ban', pnn: pnn() };
    else if (r < 0.97) action = { t: 'unban', pnn: pnn() };
    else action = { t: 'failstep', pnn: pnn(), step: rng.pick(recoverySteps) };
    steps.push({ action, waitMs: rng.between(20, 900) });
  }
  return steps;
}

export function apply(c: SimCluster, a: Action): void {
  c.log(describe(a));
  switch (a.t) {
    case 'quiet': return;
    case 'drop': return void c.network.dropInFlight(a.from, a.to);
    case 'isolate': return c.network.partition([a.pnn], c.nodes.map((n) => n.pnn).filter((p) => p !== a.pnn));
    case 'split': return c.network.partition(a.a, c.nodes.map((n) => n.pnn).filter((p) => !a.a.includes(p)));
    case 'oneway': for (const n of c.nodes) if (n.pnn !== a.pnn) c.network.cutNodeLink(a.pnn, n.pnn); return;
    case 'heal': return c.network.healAll();
    case 'kill': return c.kill(a.pnn, a.daemon);
    case 'restart': return c.restart(a.pnn, a.daemon);
    case 'stop': return c.setFlags(a.pnn, { stop: true });
    case 'cont': return c.setFlags(a.pnn, { cont: true });
    case 'ban': return c.setFlags(a.pnn, { banSeconds: 30 });
    case 'unban': return c.setFlags(a.pnn, { unban: true });
    case 'failstep': c.nodes[a.pnn]!.failStep = a.step; return;
  }
}

/** Lets idle clients act, one every few ms, until `until()` says stop. */
export function driveClients(c: SimCluster, rng: Prng, active: () => boolean): void {
  const tick = (): void => {
    if (!active()) return;
    const idle = c.clients.filter((x) => !x.busy);
    if (idle.length > 0) rng.pick(idle).act();
    c.world.at(rng.between(5, 40), tick);
  };
  c.world.at(1, tick);
}

/** Everything healed, every node taken in, one generation with every node, leases held, vacuum done. */
export function converged(c: SimCluster): boolean {
  const gens = new Set<number>();
  for (const n of c.nodes) {
    const ctx = n.dbd?.ctx;
    if (ctx === undefined || !n.recoverd.alive || !n.vacuumd.alive || !n.serving()) return false;
    if (ctx.vnn.pnns.length !== c.nodes.length) return false;
    gens.add(ctx.vnn.generation);
    if (n.vacuumd.pending() !== 0) return false;
  }
  // One leader every recoverd follows — a leader indeed: followers keep following one that
  // stepped down until LeaderTimeout tells them — not in the middle of a recovery.
  const leaders = new Set(c.nodes.map((n) => n.recoverd.core?.election.leader));
  const leader = leaders.size === 1 ? [...leaders][0] : undefined;
  const core = leader === undefined ? undefined : c.nodes[leader]!.recoverd.core;
  if (core === undefined || !core.isLeader || core.leader.phase === 'recover') return false;
  // And the generation is the leader's own (term in its high 32 bits): a new leader's first pass
  // always recovers (§5.1), so until then the cluster has not settled.
  const [gen] = [...gens];
  if (gens.size !== 1 || Math.floor(gen! / 2 ** 32) !== core.election.term) return false;
  return c.clients.every((x) => !x.busy);
}

/** The value of every key as the cluster serves it now: the dmaster's copy ('' = deleted or absent). */
function finalValues(c: SimCluster): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of c.nodes) for (const copy of n.copies()) if (copy.dmaster === n.pnn) out.set(copy.key, copy.data);
  return out;
}

export function runSchedule(o: ScheduleOptions): ScheduleResult {
  const rng = new Prng(o.seed);
  // Drawn even when given, so that the rest of the schedule is the seed's either way.
  const drawnNodes = rng.pick([3, 3, 3, 4, 5, 5, 7]);
  const nodes = o.nodes ?? drawnNodes;
  const c = new SimCluster({ seed: o.seed, nodes, clientsPerNode: 2, keys: 6, ...(o.watchKey !== undefined ? { watchKey: o.watchKey } : {}), ...(o.logs === true ? { logs: true } : {}) });
  // Drawn even when given (a replay, shrinking), so that the clients' stream below stays the seed's.
  const stepsRng = rng.fork('steps');
  const stepsDrawn = rng.between(3, 10);
  const steps = o.steps ?? drawSteps(stepsRng, nodes, o.stepsMax ?? stepsDrawn);
  c.start();
  const started = c.runUntil(() => converged(c), convergeBoundMs);
  if (!started) c.violations.push(`the cluster did not come up within ${convergeBoundMs} ms`);
  let faulty = true;
  driveClients(c, rng.fork('clients'), () => faulty);
  for (const s of steps) {
    if (c.violations.length > 0) break;
    apply(c, s.action);
    c.run(s.waitMs);
  }
  faulty = false;
  return finish(c, o.seed, nodes, steps);
}

/** After the faulty phase: heal, converge within the bound, one more write per client, the final values. */
export function finish(c: SimCluster, seed: number, nodes: number, steps: Step[]): ScheduleResult {
  if (c.violations.length === 0) heal(c);
  if (c.violations.length === 0 && !c.runUntil(() => converged(c), convergeBoundMs)) {
    c.violations.push(`no convergence within ${convergeBoundMs} ms after the last fault healed: ${convergenceState(c)}`);
  }
  if (c.violations.length === 0) finalRound(c);
  if (c.violations.length === 0) c.violations.push(...lostWrites(finalValues(c), c.model));
  c.log(`end: ${c.model.writes.length} writes, ${c.violations.length} violations`);
  c.close();
  return { seed, nodes, ok: c.violations.length === 0, violations: c.violations, steps, trace: c.trace, simMs: c.world.nowMs, events: c.world.steps };
}

/** The last fault heals: the network, every daemon, every flag. */
function heal(c: SimCluster): void {
  c.log('heal all');
  c.network.healAll();
  for (const n of c.nodes) n.failStep = undefined;
  for (const n of c.nodes) {
    for (const d of daemons) c.restart(n.pnn, d);
  }
  for (const n of c.nodes) c.setFlags(n.pnn, { cont: true });
  for (const n of c.nodes) c.setFlags(n.pnn, { unban: true });
}

/** After convergence every client writes once more: each write must be acknowledged. */
function finalRound(c: SimCluster): void {
  const before = c.model.writes.length;
  for (const client of c.clients) client.act();
  c.runUntil(() => c.clients.every((x) => !x.busy), 10_000);
  const last = c.model.writes.slice(before);
  for (const w of last) if (w.outcome !== 'acked') c.violations.push(`after convergence a client write of ${w.key} on node ${w.pnn} was ${w.outcome}`);
  if (last.length !== c.clients.length) c.violations.push(`after convergence ${c.clients.length - last.length} client writes never ended`);
}

function convergenceState(c: SimCluster): string {
  return c.nodes.map((n) => {
    const ctx = n.dbd?.ctx;
    if (ctx === undefined) return `${n.pnn}:dbd-down`;
    const r = n.recoverd.core;
    return `${n.pnn}:g${ctx.vnn.generation} v[${ctx.vnn.pnns.join(',')}] j${Number(ctx.status.joined)} f${ctx.status.recoveryFreeze} s${Number(n.serving())} vac${n.vacuumd.pending()} L${Number(n.recoverd.isLeader())} follows ${r?.election.leader ?? '-'} t${r?.election.term ?? '-'} ${r?.leader.phase ?? ''}`;
  }).join(' | ') + ` | busy clients: ${c.clients.filter((x) => x.busy).map((x) => x.id).join(',') || 'none'}`;
}
