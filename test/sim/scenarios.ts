// Named scenarios of the simulation (issue 11): fixed schedules that put a fault exactly where a
// hole was or could be — a scripted rule on the simulated network (a message dropped, held back,
// or a daemon killed just before it is sent), a recovery step failing, a leader replaced. Each
// script runs while the clients write and delete, then the usual end: heal, converge, one more
// write per client, the final values against the model. Each also says whether its fault really
// happened, so that a scenario cannot pass by missing its moment.
import { ctdbng } from '@ctdbng/protocol';
import { SimCluster } from './cluster.js';
import { Prng } from './prng.js';
import { converged, convergeBoundMs, driveClients, finish, type ScheduleResult } from './schedule.js';

export interface ScenarioRun {
  readonly c: SimCluster;
  /** Runs the world for ms (invariants checked after every event). */
  run(ms: number): void;
  /** Runs until done() or boundMs passed. */
  until(done: () => boolean, boundMs: number): boolean;
  /** The one node whose recoverd leads now, if there is one. */
  leader(): number | undefined;
  /** Asks node pnn's dbd for a recovery (as `ctdbng recover` does). */
  requestRecovery(pnn: number): void;
  /** Stops (false) or resumes (true) the clients' random operations; one already started runs on. */
  clientsActive(on: boolean): void;
}

export interface Scenario {
  name: string;
  nodes: number;
  seed: number;
  /** Drives the faults; returns what went wrong with the scenario itself ('' when its fault happened as meant). */
  script(s: ScenarioRun): string;
}

export interface ScenarioResult extends ScheduleResult {
  scenario: string;
  /** The scenario's own complaint: its fault did not happen as meant. */
  missed: string;
}

export function runScenario(sc: Scenario, o: { logs?: boolean; watchKey?: string } = {}): ScenarioResult {
  const c = new SimCluster({ seed: sc.seed, nodes: sc.nodes, clientsPerNode: 2, keys: 6, ...o });
  const rng = new Prng(sc.seed).fork('scenario');
  c.log(`scenario: ${sc.name}`);
  c.start();
  if (!c.runUntil(() => converged(c), convergeBoundMs)) c.violations.push(`the cluster did not come up within ${convergeBoundMs} ms`);
  let faulty = true;
  let paused = false;
  // Each resume starts a new stream of client operations; an older one ends at its next tick.
  let drives = 0;
  const drive = (): void => {
    const mine = ++drives;
    driveClients(c, rng.fork(mine === 1 ? 'clients' : `clients-${mine}`), () => faulty && !paused && drives === mine);
  };
  drive();
  const s: ScenarioRun = {
    c,
    run: (ms) => c.run(ms),
    until: (done, boundMs) => c.runUntil(done, boundMs, 10),
    leader: () => {
      const ls = c.nodes.filter((n) => n.recoverd.isLeader());
      return ls.length === 1 ? ls[0]!.pnn : undefined;
    },
    requestRecovery: (pnn) => {
      c.log(`recovery asked on node ${pnn}`);
      c.nodes[pnn]!.request(pnn, 'cli:admin', { requestRecovery: { reason: 'scenario' } }, () => undefined);
    },
    clientsActive: (on) => {
      if (on === !paused) return;
      paused = !on;
      c.log(`clients ${on ? 'resumed' : 'paused'}`);
      if (on) drive();
    },
  };
  const missed = c.violations.length === 0 ? sc.script(s) : '';
  faulty = false;
  return { ...finish(c, sc.seed, sc.nodes, []), scenario: sc.name, missed };
}

export const scenarios: Scenario[] = [
  {
    name: 'a hand-over delayed across a recovery\'s freeze',
    nodes: 3,
    seed: 11,
    script: (s) => {
      let generationThen: number | undefined;
      s.c.network.rules.push({
        body: 'dmasterReply', kind: 'node', delayMs: 600,
        before: (_env, from) => {
          generationThen = s.c.nodes[from]!.dbd?.ctx.vnn.generation;
          s.requestRecovery(from);
        },
      });
      s.until(() => generationThen !== undefined, 10_000);
      s.run(3_000);
      const now = s.c.nodes[0]!.dbd?.ctx.vnn.generation ?? 0;
      return generationThen === undefined ? 'no DmasterReply was sent' : now > generationThen ? '' : 'no recovery happened while the DmasterReply was held back';
    },
  },
  {
    name: 'a node whose outbound link is dead while a shared-access client writes there',
    nodes: 3,
    seed: 12,
    script: (s) => {
      const cutAtMs = s.c.world.nowMs;
      for (const p of [0, 1]) s.c.network.cutNodeLink(2, p);
      s.c.log('node 2: outbound node links cut');
      s.run(3_000);
      const tried = s.c.model.writes.some((w) => w.pnn === 2 && w.startMs > cutAtMs);
      return tried ? '' : 'no client on node 2 wrote during the cut';
    },
  },
  {
    name: 'the lmaster killed between StoreTombstone and the purge',
    nodes: 3,
    seed: 13,
    script: (s) => {
      let killed: number | undefined;
      s.c.network.rules.push({ body: 'purgeIfUnchanged', kind: 'local', before: (_env, _from, to) => { killed = to; s.c.kill(to, 'dbd'); } });
      s.until(() => killed !== undefined, 20_000);
      s.run(500);
      if (killed !== undefined) s.c.restart(killed, 'dbd');
      s.run(3_000);
      return killed === undefined ? 'no purge was asked for' : '';
    },
  },
  {
    name: 'a leader killed between push and install',
    nodes: 3,
    seed: 14,
    script: (s) => {
      let killed: number | undefined;
      s.c.network.rules.push({ body: 'installGeneration', kind: 'control', before: (_env, from) => { killed = from; s.c.kill(from, 'recoverd'); } });
      s.requestRecovery(1);
      s.until(() => killed !== undefined, 10_000);
      s.run(300);
      if (killed !== undefined) s.c.restart(killed, 'recoverd');
      s.run(3_000);
      return killed === undefined ? 'no install was sent' : '';
    },
  },
  ...(['installGeneration', 'thaw'] as const).map((step, i): Scenario => ({
    name: `${step === 'thaw' ? 'thaw' : 'install'} failing on one node`,
    nodes: 3,
    seed: 15 + i,
    script: (s) => {
      const n = s.c.nodes[2]!;
      n.failStep = step;
      s.requestRecovery(0);
      const hit = s.until(() => n.failStepHits > 0, 10_000);
      s.run(2_000);
      n.failStep = undefined;
      s.requestRecovery(0);
      s.run(2_000);
      return hit ? '' : `node 2 was never asked for ${step}`;
    },
  })),
  {
    name: 'a node that was left out becoming leader',
    nodes: 3,
    seed: 17,
    script: (s) => {
      s.c.setFlags(2, { stop: true });
      s.run(2_500); // deletes vacuumed while node 2 is out
      s.c.setFlags(2, { cont: true });
      s.run(500);
      // Replace the leader (its recoverd killed until another leads, then started again) until
      // node 2 leads.
      for (let i = 0; i < 12 && s.leader() !== 2; i++) {
        const l = s.leader();
        if (l !== undefined) {
          s.c.kill(l, 'recoverd');
          s.until(() => s.leader() !== undefined, 5_000);
          s.c.restart(l, 'recoverd');
        }
        s.run(500);
      }
      const led = s.leader() === 2;
      s.run(2_000);
      return led ? '' : 'node 2 never became leader';
    },
  },
  {
    name: 'a restarted recoverd in the middle of an election',
    nodes: 5,
    seed: 18,
    script: (s) => {
      const l = s.leader();
      if (l === undefined) return 'no leader to replace';
      let restarted: number | undefined;
      s.c.network.rules.push({
        body: 'voteRequest', kind: 'peer',
        before: (_env, _from, to) => {
          restarted = to;
          s.c.kill(to, 'recoverd');
          s.c.world.at(20, () => s.c.restart(to, 'recoverd'));
        },
      });
      s.c.kill(l, 'recoverd');
      s.until(() => restarted !== undefined, 10_000);
      s.run(3_000);
      s.c.restart(l, 'recoverd');
      s.run(1_000);
      return restarted === undefined ? 'no election happened' : '';
    },
  },
  // The holes of the recovery-correctness issue (issue 10, "What to fix" 1–5).
  {
    name: 'hole 1: a failed install, then two recoveries, lose nothing',
    nodes: 3,
    seed: 21,
    script: (s) => {
      const n = s.c.nodes[2]!;
      n.failStep = 'installGeneration';
      s.requestRecovery(0);
      const hit = s.until(() => n.failStepHits > 0, 10_000);
      s.run(1_000);
      n.failStep = undefined;
      for (let i = 0; i < 2; i++) {
        s.requestRecovery(0);
        s.run(1_500);
      }
      return hit ? '' : 'the install never failed';
    },
  },
  {
    name: 'hole 2: a leader cut off with a minority cannot leave two writers',
    nodes: 3,
    seed: 22,
    script: (s) => {
      const l = s.leader();
      if (l === undefined) return 'no leader';
      s.c.network.partition([l], s.c.nodes.map((n) => n.pnn).filter((p) => p !== l));
      s.c.log(`leader ${l} cut off`);
      s.run(4_000);
      return '';
    },
  },
  {
    name: 'hole 3: a stopped node takes no store, through dbd or shared access',
    nodes: 3,
    seed: 23,
    script: (s) => {
      const stopAt = s.c.world.nowMs;
      s.c.setFlags(1, { stop: true });
      s.run(2_000);
      const acked = s.c.model.writes.filter((w) => w.pnn === 1 && w.startMs > stopAt + 50 && w.outcome === 'acked');
      s.c.setFlags(1, { cont: true });
      s.run(1_000);
      return acked.length === 0 ? '' : `node 1 acknowledged ${acked.length} writes while stopped`;
    },
  },
  {
    name: 'hole 4: a deletion cut off after StoreTombstone by a dbd restart, the record written again',
    nodes: 3,
    seed: 24,
    script: (s) => {
      let killed: number | undefined;
      s.c.network.rules.push({
        body: 'vacuumRemote', kind: 'local',
        before: (env, _from, to) => {
          if (env.vacuumRemote?.phase !== ctdbng.v1.VacuumPhase.VACUUM_PHASE_TRY_DELETE || killed !== undefined) return;
          killed = to;
          s.c.kill(to, 'dbd');
          s.c.world.at(200, () => s.c.restart(to, 'dbd'));
        },
        always: true,
      });
      s.until(() => killed !== undefined, 20_000);
      s.run(5_000);
      return killed === undefined ? 'no TryDelete was asked for' : '';
    },
  },
  {
    name: 'hole 5: a lost hand-over asks for a recovery instead of leaving calls to wait',
    nodes: 3,
    seed: 25,
    script: (s) => {
      let dropped = false;
      s.c.network.rules.push({ body: 'dmasterReply', kind: 'node', drop: true, before: () => { dropped = true; } });
      s.until(() => dropped, 10_000);
      s.run(4_000);
      return dropped ? '' : 'no DmasterReply to lose';
    },
  },
];
