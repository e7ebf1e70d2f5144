// `npm run soak -- [--minutes N] [--nodes 3|5] [--seed S]`: a real cluster (daemons as processes,
// ctdbng-cluster's supervisors) under a workload of writes, deletes and shared-access writes,
// with random faults: kill -9 of any daemon, SIGSTOP/SIGCONT, stop/continue, ban, one-way and
// two-way cuts (run/faults.json). Every few seconds each node's copies (cattdb) are checked; at
// the end, after healing, the history of acknowledged operations is checked against what the
// cluster serves (issue 11). Prints its seed and a summary; exit 1 on any violation.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '@ctdbng/cli';
import { connect, type Client, type Db } from '@ctdbng/client';
import { lostWrites } from '../sim/checkers.js';
import { Model, type OpOutcome } from '../sim/model.js';
import { Prng } from '../sim/prng.js';

interface Args { minutes: number; nodes: number; seed: number; portBase: number }

function parse(argv: string[]): Args {
  const a: Args = { minutes: 1, nodes: 3, seed: Date.now() % 1_000_000_000, portBase: 29_400 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${argv[i]} needs a number`);
    if (argv[i] === '--minutes') a.minutes = v;
    else if (argv[i] === '--nodes') a.nodes = v;
    else if (argv[i] === '--seed') a.seed = v;
    else if (argv[i] === '--port-base') a.portBase = v;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return a;
}

const tunables = {
  KeepaliveInterval: 1, KeepaliveLimit: 3, LeaderTimeout: 1000, LeaderBroadcastInterval: 200, RecoverInterval: 200,
  RerecoveryTimeout: 100, SharedAccessLease: 1000, RecoveryDrainTimeout: 500, RecoveryTimeout: 5000, ControlTimeout: 3000,
  VacuumInterval: 1, VacuumRetryMin: 50, VacuumRetryMax: 500, RecoveryBanCount: 1000,
};
const dbName = 'soak.tdb';
const keys = Array.from({ length: 16 }, (_, i) => `soak-${i}`);
const daemons = ['dbd', 'recoverd', 'vacuumd'] as const;
const faultNames = ['kill -9', 'SIGSTOP/SIGCONT', 'stop/continue', 'ban', 'one-way cut', 'two-way cut'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowMs = (): number => performance.now();

class Soak {
  readonly model = new Model();
  readonly violations: string[] = [];
  faults = 0;
  ops = 0;
  /** Faults by kind (the summary). */
  readonly kinds = new Map<string, number>();
  checks = 0;
  private stopping = false;
  /** (pnn → when a fault last touched the node): a write acknowledged there before may be lost (§5.4). */
  private readonly touched = new Map<number, number>();

  constructor(readonly c: Cluster, readonly rng: Prng, readonly nodes: number) {}

  private pid(pnn: number, d: string): number {
    return Number(readFileSync(join(this.c.nodeBase(pnn), 'run', `${d}.pid`), 'utf8').trim());
  }

  private faultsFile(pnn: number, f: Record<string, unknown>): void {
    const path = join(this.c.nodeBase(pnn), 'run', 'faults.json');
    writeFileSync(`${path}.tmp`, JSON.stringify(f));
    renameSync(`${path}.tmp`, path);
  }

  /**
   * A fault that can cost writes under §5.4 touched node pnn: its dbd killed or paused, the node
   * stopped, banned or cut off (a generation may leave it out). The soak cannot see which node
   * held a record when, so every write acknowledged before it may be lost: the final check stays
   * sound, and the periodic ownership checks carry the sharper invariants. Killing recoverd or
   * vacuumd loses nothing, so it forgives nothing.
   */
  private touch(pnn: number): void {
    this.touched.set(pnn, nowMs());
    this.model.leftOut('*', nowMs());
  }

  /** One client loop: writes and deletes until the soak ends; every outcome into the model. */
  async client(pnn: number, shared: boolean, rng: Prng): Promise<void> {
    let client: Client | undefined;
    let db: Db | undefined;
    while (!this.stopping) {
      try {
        client ??= await connect({ base: this.c.nodeBase(pnn), name: 'soak', sharedAccess: shared, timeoutMs: 3000 });
        db ??= await client.attach(dbName);
      } catch {
        await client?.close().catch(() => undefined);
        client = undefined;
        db = undefined;
        await sleep(200);
        continue;
      }
      const key = rng.pick(keys);
      const value = rng.chance(0.25) ? '' : `${pnn}${shared ? 's' : 'z'}-${++this.ops}`;
      const startMs = nowMs();
      let outcome: OpOutcome = 'failed';
      let stored = false;
      try {
        const rec = await db.fetchLock(key);
        stored = true;
        if (value === '') await rec.delete({ unlock: true });
        else await rec.store(value, { unlock: true });
        outcome = 'acked';
      } catch (err) {
        // A store that timed out may have landed; one refused or a lock not taken did not.
        const name = err instanceof Error ? err.name : '';
        outcome = stored && name === 'TimeoutError' ? 'unknown' : 'failed';
        if (name === 'ConnectionError' || name === 'NotConnectedError') {
          await client.close().catch(() => undefined);
          client = undefined;
          db = undefined;
        }
      }
      this.model.record({ key, value, outcome, startMs, doneMs: nowMs(), pnn, incarnation: -1 });
    }
    await client?.close().catch(() => undefined);
  }

  /** Random faults until the soak ends, each undone after a while. */
  async faultsLoop(): Promise<void> {
    while (!this.stopping) {
      await sleep(this.rng.between(1500, 5000));
      if (this.stopping) break;
      const pnn = this.rng.int(this.nodes);
      const kind = this.rng.int(6);
      this.faults++;
      const daemon = this.rng.pick(daemons);
      const risky = kind >= 2 || daemon === 'dbd';
      if (risky) this.touch(pnn);
      try {
        if (kind === 0) process.kill(this.pid(pnn, daemon), 'SIGKILL');
        else if (kind === 1) {
          const pid = this.pid(pnn, daemon);
          process.kill(pid, 'SIGSTOP');
          await sleep(this.rng.between(500, 3000));
          process.kill(pid, 'SIGCONT');
        } else if (kind === 2 || kind === 3) {
          const c = await connect({ base: this.c.nodeBase((pnn + 1) % this.nodes), name: 'soak-admin', timeoutMs: 3000 });
          try {
            await c.setNodeFlags(kind === 2 ? { stop: true } : { banSeconds: 3 }, { pnn });
            await sleep(this.rng.between(1000, 3000));
            if (kind === 2) await c.setNodeFlags({ cont: true }, { pnn });
          } finally {
            await c.close();
          }
        } else if (kind === 4) {
          const others = Array.from({ length: this.nodes }, (_, p) => p).filter((p) => p !== pnn);
          this.faultsFile(pnn, { oneWay: { dropTo: others } });
          await sleep(this.rng.between(1500, 4000));
          rmSync(join(this.c.nodeBase(pnn), 'run', 'faults.json'), { force: true });
        } else {
          this.c.partition(pnn);
          await sleep(this.rng.between(1500, 4000));
          this.c.heal();
        }
      } catch {
        // A daemon between restarts, an admin request refused while the node is out: the next fault.
      }
      this.kinds.set(faultNames[kind]!, (this.kinds.get(faultNames[kind]!) ?? 0) + 1);
      if (risky) this.touch(pnn);
    }
  }

  /** Every few seconds: no key has two nodes that both call themselves its dmaster within one generation. */
  async checksLoop(): Promise<void> {
    while (!this.stopping) {
      await sleep(3000);
      await this.checkOwnership().catch(() => undefined);
    }
  }

  /** Each node's copies (local traverse), when it is joined and thawed: pnn, generation, key → header. */
  private async snapshot(p: number): Promise<{ pnn: number; generation: number; copies: Map<string, { rsn: number; dmaster: number; data: string }> } | undefined> {
    const c = await connect({ base: this.c.nodeBase(p), name: 'soak-check', timeoutMs: 2000 });
    try {
      const st = await c.getNodeState();
      if (st.frozen || !st.joined) return undefined;
      const db = await c.attach(dbName);
      const copies = new Map<string, { rsn: number; dmaster: number; data: string }>();
      for await (const r of db.traverse({ local: true })) copies.set(r.key.toString(), { rsn: r.header.rsn, dmaster: r.header.dmaster, data: r.data.toString() });
      const after = await c.getNodeState();
      return after.generation === st.generation && !after.frozen ? { pnn: p, generation: st.generation, copies } : undefined;
    } finally {
      await c.close();
    }
  }

  /**
   * Within one generation: no key has two dmasters, and no copy has the dmaster's rsn or more
   * (but the tombstones vacuuming placed, §4.3a). The nodes are read one after another while
   * records move, so a suspect is read again: it counts only if both copies are unchanged (a
   * hand-over changes the sender's copy).
   */
  private async checkOwnership(): Promise<void> {
    this.checks++;
    const views = (await Promise.all(Array.from({ length: this.nodes }, (_, p) => this.snapshot(p).catch(() => undefined)))).filter((v) => v !== undefined);
    for (const v of views) for (const w of views) {
      if (v.pnn >= w.pnn || v.generation !== w.generation) continue;
      for (const [key, a] of v.copies) {
        const b = w.copies.get(key);
        if (b === undefined) continue;
        const [owner, other] = a.dmaster === v.pnn ? [{ pnn: v.pnn, c: a }, { pnn: w.pnn, c: b }] : b.dmaster === w.pnn ? [{ pnn: w.pnn, c: b }, { pnn: v.pnn, c: a }] : [undefined, undefined];
        if (owner === undefined || other === undefined) continue;
        const two = other.c.dmaster === other.pnn;
        const notOlder = other.c.rsn >= owner.c.rsn && !(other.c.rsn === owner.c.rsn && other.c.data === '' && other.c.dmaster === owner.pnn);
        if (!two && !notOlder) continue;
        const again = await Promise.all([this.snapshot(owner.pnn), this.snapshot(other.pnn)]).catch(() => [undefined, undefined]);
        const [o2, x2] = again;
        const same = (x: { rsn: number; dmaster: number } | undefined, y: { rsn: number; dmaster: number }): boolean => x !== undefined && x.rsn === y.rsn && x.dmaster === y.dmaster;
        if (o2?.generation !== v.generation || x2?.generation !== v.generation || !same(o2.copies.get(key), owner.c) || !same(x2.copies.get(key), other.c)) continue;
        this.violations.push(two
          ? `${key}: nodes ${owner.pnn} and ${other.pnn} are both dmaster in generation ${v.generation}`
          : `${key}: node ${other.pnn}'s copy (rsn ${other.c.rsn}) is not older than dmaster ${owner.pnn}'s (rsn ${owner.c.rsn}) in generation ${v.generation}`);
      }
    }
  }

  async run(ms: number, clientsPerNode: number): Promise<void> {
    const loops = Array.from({ length: this.nodes * clientsPerNode }, (_, i) => this.client(i % this.nodes, i % 2 === 1, this.rng.fork(`client${i}`)));
    const faults = this.faultsLoop();
    const checks = this.checksLoop();
    await sleep(ms);
    this.stopping = true;
    await Promise.all([...loops, faults, checks]);
  }
}

async function main(): Promise<number> {
  const a = parse(process.argv.slice(2));
  process.stdout.write(`soak: seed ${a.seed}, ${a.nodes} nodes, ${a.minutes} minute(s)\n`);
  const base = mkdtempSync(join(tmpdir(), 'ctdbng-soak-'));
  const c = await startCluster({ nodes: a.nodes, base, portBase: a.portBase, fresh: true, tunables });
  try {
    const admin = await c.clientFor(0);
    await admin.attach(dbName);
    await admin.close();
    const soak = new Soak(c, new Prng(a.seed), a.nodes);
    await soak.run(a.minutes * 60_000, 2);
    // Heal: no cut, every daemon back (supervisors restart them), every node continued and unbanned.
    c.heal();
    for (let p = 0; p < a.nodes; p++) rmSync(join(c.nodeBase(p), 'run', 'faults.json'), { force: true });
    const admin2 = await connect({ base: c.nodeBase(0), name: 'soak-heal', timeoutMs: 10_000 });
    for (let p = 0; p < a.nodes; p++) {
      await admin2.setNodeFlags({ cont: true }, { pnn: p }).catch(() => undefined);
      await admin2.setNodeFlags({ unban: true }, { pnn: p }).catch(() => undefined);
    }
    await admin2.close();
    const final = await settledValues(c, a.nodes);
    soak.violations.push(...lostWrites(final, soak.model));
    const acked = soak.model.writes.filter((w) => w.outcome === 'acked').length;
    process.stdout.write([
      `soak: seed ${a.seed}: ${soak.model.writes.length} operations (${acked} acknowledged), ${soak.faults} faults (${[...soak.kinds].map(([k, n]) => `${k} ${n}`).join(', ')}), ${soak.checks} ownership checks, ${soak.violations.length} violations`,
      ...soak.violations.slice(0, 20).map((v) => `  violation: ${v}`),
      '',
    ].join('\n'));
    return soak.violations.length === 0 ? 0 : 1;
  } finally {
    await c.down();
    rmSync(base, { recursive: true, force: true });
  }
}

/** Once the healed cluster settled: each key's value as served (catdb through node 0). */
async function settledValues(c: Cluster, nodes: number): Promise<Map<string, string>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const states = await Promise.all(Array.from({ length: nodes }, async (_, p) => {
        const cl = await connect({ base: c.nodeBase(p), name: 'soak-settle', timeoutMs: 2000 });
        try {
          return await cl.getNodeState();
        } finally {
          await cl.close();
        }
      }));
      if (states.every((s) => !s.frozen && s.joined && s.vnnmap.length === nodes && s.generation === states[0]!.generation)) break;
    } catch {
      // A daemon still restarting.
    }
    if (Date.now() > deadline) throw new Error('the healed cluster did not settle within 60 s');
    await sleep(200);
  }
  const cl = await connect({ base: c.nodeBase(0), name: 'soak-final', timeoutMs: 10_000 });
  try {
    const db = await cl.attach(dbName);
    const out = new Map<string, string>();
    for await (const r of db.traverse()) out.set(r.key.toString(), r.data.toString());
    return out;
  } finally {
    await cl.close();
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`soak: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
