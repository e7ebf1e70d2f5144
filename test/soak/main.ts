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
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowMs = (): number => performance.now();

class Soak {
  readonly model = new Model();
  readonly violations: string[] = [];
  faults = 0;
  ops = 0;
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
   * A fault touched node pnn. The soak cannot see which node held a record when, so any fault
   * makes every write acknowledged before it one that may be lost (§5.4): the final check is
   * sound, and the periodic ownership checks carry the sharper invariants.
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
      this.touch(pnn);
      try {
        if (kind === 0) process.kill(this.pid(pnn, this.rng.pick(daemons)), 'SIGKILL');
        else if (kind === 1) {
          const pid = this.pid(pnn, this.rng.pick(daemons));
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
      this.touch(pnn);
    }
  }

  /** Every few seconds: no key has two nodes that both call themselves its dmaster within one generation. */
  async checksLoop(): Promise<void> {
    while (!this.stopping) {
      await sleep(3000);
      await this.checkOwnership().catch(() => undefined);
    }
  }

  private async checkOwnership(): Promise<void> {
    const views = await Promise.all(Array.from({ length: this.nodes }, async (_, p) => {
      const c = await connect({ base: this.c.nodeBase(p), name: 'soak-check', timeoutMs: 2000 });
      try {
        const st = await c.getNodeState();
        if (st.frozen || !st.joined) return undefined;
        const db = await c.attach(dbName);
        const copies = new Map<string, number>();
        for await (const r of db.traverse({ local: true })) if (r.header.dmaster === p) copies.set(r.key.toString(), r.header.rsn);
        return { pnn: p, generation: st.generation, copies };
      } finally {
        await c.close();
      }
    }));
    const owners = new Map<string, number>();
    for (const v of views) {
      if (v === undefined) continue;
      for (const key of v.copies.keys()) {
        const k = `${v.generation}/${key}`;
        const other = owners.get(k);
        if (other !== undefined) this.violations.push(`${key}: nodes ${other} and ${v.pnn} are both dmaster in generation ${v.generation}`);
        owners.set(k, v.pnn);
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
      `soak: seed ${a.seed}: ${soak.model.writes.length} operations (${acked} acknowledged), ${soak.faults} faults, ${soak.violations.length} violations`,
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
