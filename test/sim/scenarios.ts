// Named scenarios of the simulation (issue 11): fixed schedules that put a fault exactly where a
// hole was or could be — a scripted rule on the simulated network (a message dropped, held back,
// or a daemon killed just before it is sent), a recovery step failing, a leader replaced. Each
// script runs while the clients write and delete, then the usual end: heal, converge, one more
// write per client, the final values against the model. Each also says whether its fault really
// happened, so that a scenario cannot pass by missing its moment.
import { lmasterOf } from '@ctdbng/common';
import { ctdbng } from '@ctdbng/protocol';
import type { SimClient } from './clients.js';
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
    // Left out by a partition, not a stop: a stop invalidates the copies and keeps the node a
    // witness that installs every generation, so its own installed generation stays current. An
    // isolated node goes inactive with valid copies of an older generation. Every key is deleted
    // and vacuumed away on the majority meanwhile; then the left-out node must lead the recovery
    // that takes it back (the leader's recoverd killed, the others' vote requests lost), and
    // only G_max of every freeze reply keeps its stale copies out of the merge.
    name: 'hole 1: a node left out by a partition leads the recovery that takes it back',
    nodes: 3,
    seed: 26,
    script: (s) => {
      s.run(2_000); // copies on every node
      const l = s.leader();
      if (l === undefined) return 'no leader';
      const x = (l + 1) % 3;
      const rest = [0, 1, 2].filter((p) => p !== x);
      const gen = (p: number): number => s.c.nodes[p]!.dbd?.ctx.status.installedGeneration ?? 0;
      const xGen = gen(x);
      s.c.network.partition([x], rest);
      s.c.log(`node ${x} cut off`);
      s.until(() => gen(l) > xGen, 10_000);
      s.clientsActive(false);
      s.until(() => s.c.clients.every((k) => !k.busy), 10_000);
      // Every key deleted through the majority, one after the other.
      const client = s.c.clients.find((k) => k.port.pnn === l)!;
      const left = [...new Set(s.c.model.writes.map((w) => w.key))].sort();
      const next = (): void => {
        const key = left.shift();
        if (key !== undefined) client.act(next, { key, del: true });
      };
      next();
      s.until(() => left.length === 0 && !client.busy, 20_000);
      s.run(3_000); // vacuumed away
      // Node x's copies that would win a merge they took part in: above every copy on the majority.
      const newest = (key: string): number | undefined => {
        const rsns = rest.flatMap((p) => s.c.nodes[p]!.copies().filter((k) => k.key === key).map((k) => k.rsn));
        return rsns.length === 0 ? undefined : Math.max(...rsns);
      };
      const stale = s.c.nodes[x]!.copies().filter((k) => {
        const m = newest(k.key);
        return k.data !== '' && (m === undefined || k.rsn > m);
      }).map((k) => k.key);
      s.c.log(`node ${x}'s stale copies above the majority's: ${stale.join(',') || 'none'}`);
      const majorityGen = gen(l);
      // Only node x may win the next election.
      const rules = rest.map((p) => ({ body: 'voteRequest', kind: 'peer' as const, from: p, drop: true, always: true }));
      s.c.network.rules.push(...rules);
      s.c.kill(l, 'recoverd');
      s.c.network.healAll();
      s.c.log(`node ${x} back; only it may be elected`);
      s.run(100);
      s.c.restart(l, 'recoverd');
      const xLed = s.until(() => s.leader() === x && gen(x) > majorityGen && s.c.nodes.every((n) => n.serving()), 15_000);
      for (const r of rules) s.c.network.rules.splice(s.c.network.rules.indexOf(r), 1);
      // A stale copy merged back is a zombie (a deleted and vacuumed record served again).
      s.clientsActive(true);
      s.run(1_000);
      if (stale.length === 0) return `node ${x} held no copy the majority had vacuumed away`;
      // (The wait above ends early at a violation.)
      return xLed || s.c.violations.length > 0 ? '' : `node ${x} never led a recovery after the partition`;
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
    // The leader's GetNodeState to every other node is lost for a while (a random seed found it
    // as an isolation shorter than LeaderTimeout): its pass sees only itself. Without a quorum it
    // would recover with vnnmap [itself], a generation above the others', and G_max would then
    // leave out every copy but its own.
    name: 'hole 2: a leader that hears from no other node recovers nothing',
    nodes: 5,
    seed: 33,
    script: (s) => {
      s.run(500);
      const l = s.leader();
      if (l === undefined) return 'no leader';
      const gen = (p: number): number => s.c.nodes[p]!.dbd?.ctx.status.installedGeneration ?? 0;
      const before = gen(l);
      const rules = s.c.nodes.filter((n) => n.pnn !== l).map((n) => ({ body: 'getNodeState', kind: 'control' as const, from: l, to: n.pnn, drop: true, always: true, hits: 0 }));
      s.c.network.rules.push(...rules);
      s.c.log(`leader ${l}: GetNodeState to the others lost`);
      s.run(2 * s.c.tunables.leaderTimeoutMs + 500);
      for (const r of rules) s.c.network.rules.splice(s.c.network.rules.indexOf(r), 1);
      s.c.log(`leader ${l}: GetNodeState delivered again; its generation ${gen(l) === before ? 'unchanged' : 'changed'}`);
      s.run(3_000);
      return rules.every((r) => r.hits > 0) ? '' : 'no GetNodeState was lost';
    },
  },
  {
    // The vnnmap is smaller than the nodes file (two of five nodes stopped: witnesses, not
    // members), so a pair cut off from the rest is a majority of its own vnnmap [a,b,c] but not
    // of the nodes file, while c with the two witnesses is. Counted over the vnnmap, the pair's
    // lease would go on while c takes over every record: two writers.
    name: 'hole 2: a pair that is a majority of its vnnmap, not of the nodes file, stops serving',
    nodes: 5,
    seed: 27,
    script: (s) => {
      s.run(1_000);
      s.c.setFlags(3, { stop: true });
      s.c.setFlags(4, { stop: true });
      const members = (p: number): string => (s.c.nodes[p]!.dbd?.ctx.vnn.pnns ?? []).join(',');
      if (!s.until(() => [0, 1, 2].every((p) => members(p) === '0,1,2' && s.c.nodes[p]!.serving()), 10_000)) return 'no generation with vnnmap [0,1,2]';
      const l = s.leader() ?? 2;
      const c = l <= 2 ? l : 2;
      const pair = [0, 1, 2].filter((p) => p !== c);
      const cutAtMs = s.c.world.nowMs;
      s.c.network.partition(pair, [c, 3, 4]);
      s.c.log(`nodes ${pair.join(',')} cut off from ${c},3,4`);
      const tookOver = s.until(() => members(c) === String(c) && s.c.nodes[c]!.serving(), 10_000);
      s.run(2_000);
      const tried = s.c.model.writes.some((w) => pair.includes(w.pnn) && w.startMs > cutAtMs);
      if (s.c.violations.length > 0) return '';
      if (!tookOver) return `node ${c} with the witnesses never took over`;
      return tried ? '' : 'no client of the pair wrote during the cut';
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
  ...([{ what: 'stopped', flags: { stop: true } }, { what: 'banned', flags: { banSeconds: 30 } }] as const).map(({ what, flags }, i): Scenario => ({
    // A client holds the record lock on node 1 and its store is on the way when node 1 is
    // stopped or banned: the store must fail (ERR_LOCK_LOST or the refusal), not be written
    // under the lease node 1 held before.
    name: `hole 3: a lock holder's store reaching a node just ${what} is refused`,
    nodes: 3,
    seed: 28 + i,
    script: (s) => {
      let outAt: number | undefined;
      s.c.network.rules.push({
        body: 'store', kind: 'local', from: 1, to: 1, delayMs: 50,
        before: () => {
          outAt = s.c.world.nowMs;
          s.c.setFlags(1, flags);
        },
      });
      s.until(() => outAt !== undefined, 10_000);
      s.run(1_500);
      if (outAt === undefined) return 'no store on node 1';
      const acked = s.c.model.writes.filter((w) => w.pnn === 1 && w.doneMs > outAt! + 5 && w.outcome === 'acked');
      for (const w of acked) s.c.violations.push(`node 1 acknowledged a store of ${w.key} (${w.value || 'delete'}) ${(w.doneMs - outAt).toFixed(1)} ms after it was ${what}`);
      s.c.setFlags(1, what === 'stopped' ? { cont: true } : { unban: true });
      s.run(1_000);
      return '';
    },
  })),
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
    // vacuumd remembers a higher rsn of a key than the dmaster's tombstone has now. The lmaster's
    // vacuumd has taken k's deletion at a high rsn when the only two dbds with a copy die; the
    // recovery drops k, it is created again, handed over and deleted at a lower rsn, and vacuumd
    // comes back with both deletions. StoreTombstone must place the dmaster's rsn, not the
    // remembered one: a tombstone above the dmaster's copy would win the next merge.
    name: 'hole 4: a record dropped by a recovery and deleted again at a lower rsn than vacuumd remembers',
    nodes: 3,
    seed: 31,
    script: (s) => {
      s.clientsActive(false); // k is written only as said below
      s.until(() => s.c.clients.every((k) => !k.busy), 10_000);
      const key = 'k0';
      const d = lmasterOf(Buffer.from(key), [0, 1, 2]);
      const e = (d + 1) % 3;
      const o = (d + 2) % 3;
      const client = (pnn: number): SimClient => s.c.clients.find((k) => k.port.pnn === pnn && !k.sharedAccess)!;
      const ops = (list: [number, boolean][]): boolean => {
        const left = [...list];
        const next = (): void => {
          const op = left.shift();
          if (op !== undefined) client(op[0]).act(next, { key, del: op[1] });
        };
        next();
        return s.until(() => left.length === 0 && s.c.clients.every((k) => !k.busy), 20_000);
      };
      const rsnOn = (pnn: number): number | undefined => s.c.nodes[pnn]!.copies().find((k) => k.key === key)?.rsn;
      // Only d and e ever hold k. Delete it on d at a high rsn; its vacuumd takes it up and goes
      // for StoreTombstone: then d's and e's dbds die, and d's vacuumd.
      if (rsnOn(o) !== undefined) return `node ${o} holds ${key} already`;
      let high: number | undefined;
      s.c.network.rules.push({
        body: 'vacuumRemote', kind: 'local', from: d, to: d, always: true,
        before: (env) => {
          const m = env.vacuumRemote;
          if (high !== undefined || m?.phase !== ctdbng.v1.VacuumPhase.VACUUM_PHASE_STORE_TOMBSTONE) return;
          if (!(m.keys ?? []).some((k) => Buffer.from(k.key ?? []).toString() === key)) return;
          high = rsnOn(d);
          s.c.kill(d, 'vacuumd');
          s.c.kill(d, 'dbd');
          s.c.kill(e, 'dbd');
          s.c.world.at(200, () => {
            s.c.restart(d, 'dbd');
            s.c.restart(e, 'dbd');
          });
        },
      });
      if (!ops([[e, false], [d, false], [e, false], [d, false], [e, false], [d, true]])) return 'the first writes did not end';
      if (!s.until(() => high !== undefined, 10_000)) return `node ${d}'s vacuumd never sent StoreTombstone for ${key}`;
      if (!s.until(() => s.c.nodes.every((n) => n.serving()), 10_000)) return 'the cluster did not recover';
      if (s.c.nodes.some((n) => rsnOn(n.pnn) !== undefined)) return `the recovery kept ${key}`;
      // Created again on d, handed to e with data and back, deleted on d.
      if (!ops([[d, false], [e, false], [d, true]])) return 'the second writes did not end';
      const low = rsnOn(d) ?? 0;
      s.c.log(`${key}: deleted on node ${d} at rsn ${high!}, dropped by the recovery, deleted again there at rsn ${low}`);
      s.c.restart(d, 'vacuumd');
      s.run(3_000);
      s.clientsActive(true);
      s.run(1_000);
      if (s.c.violations.length > 0) return '';
      return low < high! ? '' : `the second deletion's rsn ${low} is not below the first's ${high!}`;
    },
  },
  {
    // A broken peer: one DmasterRequest is rewritten in flight to name another record of the
    // same lmaster, one its sender is not the dmaster of. The lmaster must leave that record
    // alone and ask for a recovery; applying it would hand the record to a second dmaster.
    name: 'hole 5: the lmaster refuses a DmasterRequest from a node that is not the dmaster',
    nodes: 3,
    seed: 30,
    script: (s) => {
      s.run(1_000);
      let forged: string | undefined;
      s.c.network.rules.push({
        body: 'dmasterRequest', kind: 'node', always: true,
        before: (env, from, to) => {
          const m = env.dmasterRequest;
          if (forged !== undefined || m === undefined || m === null) return;
          const vnn = s.c.nodes[to]!.dbd?.ctx.vnn.pnns ?? [];
          const rsn = Number(m.header?.rsn ?? 0);
          const newDmaster = m.newDmaster ?? -1;
          const other = s.c.nodes[to]!.copies().find((k) => {
            if (k.key === Buffer.from(m.key ?? []).toString() || k.dmaster === from || k.dmaster === newDmaster || k.dmaster === to) return false;
            if (lmasterOf(Buffer.from(k.key), vnn) !== to) return false;
            const there = s.c.nodes[newDmaster]?.copies().find((x) => x.key === k.key);
            return there === undefined || there.rsn < rsn + 1;
          });
          if (other === undefined) return;
          forged = other.key;
          s.c.log(`DmasterRequest from node ${from} to lmaster ${to} rewritten to name ${other.key} (dmaster ${other.dmaster})`);
          m.key = Buffer.from(other.key);
        },
      });
      s.until(() => forged !== undefined, 10_000);
      s.run(3_000);
      return forged === undefined ? 'no DmasterRequest to rewrite' : '';
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
