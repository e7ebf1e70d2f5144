// The recovery steps of DESIGN §5.3 driven by a test playing the leader's recoverd against the
// in-memory cluster: freeze, pull, merge, push, install generation, thaw. Not a test file.
import { packRecords, unpackRecords, type BodyOf, type ctdbng, type EnvelopeInit } from '@ctdbng/protocol';
import { RecordFlags } from '@ctdbng/store';
import type { Cluster, Pending } from './harness.js';

export type WireRecord = ctdbng.v1.IRecord;
export type FreezeReply = BodyOf<'freezeReply'>;

/** The records of a PullDbReply page as wire records (the page is packed, recovery.proto). */
export function pageRecords(page: { packedRecords: Uint8Array }): WireRecord[] {
  return unpackRecords(page.packedRecords).map((r) => ({ key: r.key, header: { rsn: r.rsn, dmaster: r.dmaster, flags: r.flags }, data: r.data }));
}

/** A PushDbBatch body for these records, packed. */
export function batch(term: number, pushId: number, records: readonly WireRecord[]): EnvelopeInit {
  const packed = packRecords(records.map((r) => ({ key: r.key!, rsn: Number(r.header!.rsn ?? 0), dmaster: r.header!.dmaster ?? 0, flags: r.header!.flags ?? 0, data: r.data ?? new Uint8Array(0) })));
  return { pushDbBatch: { term, pushId, packedRecords: packed, recordCount: records.length } };
}

/** A recovery control (or any request) from the node's recoverd, run until idle. */
export function ctl(c: Cluster, pnn: number, init: EnvelopeInit): Pending {
  return c.call(pnn, 'recoverd', init);
}

/** Sends Freeze to each node; the handles answer once the node drained (timers may be needed). */
export function freeze(c: Cluster, pnns: number[], generation: number, term = c.term): Pending[] {
  const ps = pnns.map((pnn) => c.request(pnn, 'recoverd', { freeze: { term, generation } }));
  c.runUntilIdle();
  return ps;
}

export interface Pulled {
  records: WireRecord[];
  valid: boolean;
  generation: number;
  pages: number;
}

/** Every record of the cluster's db on node pnn, page by page (the node is frozen for `generation`). */
export function pullAll(c: Cluster, pnn: number, generation: number, recordsMax = 0, term = c.term): Pulled {
  const out: Pulled = { records: [], valid: false, generation: 0, pages: 0 };
  let after: Uint8Array | undefined;
  for (;;) {
    const r = ctl(c, pnn, { pullDb: { term, generation, dbId: c.dbId, afterKey: after ?? Buffer.alloc(0), hasAfter: after !== undefined, recordsMax } }).body('pullDbReply');
    out.records.push(...pageRecords(r));
    out.valid = r.valid;
    out.generation = Number(r.generation);
    out.pages++;
    if (r.done) return out;
    after = r.lastKey;
  }
}

/**
 * The volatile merge of §5.3.2: highest rsn wins; on equal rsn the copy pulled from the node
 * its own header names as dmaster; tombstones take part, then are dropped. The result names
 * the leader as dmaster, with MIGRATED_WITH_DATA.
 */
export function merge(pulls: { pnn: number; records: WireRecord[] }[], leader: number): WireRecord[] {
  const kept = new Map<string, { rec: WireRecord; fromDmaster: boolean }>();
  for (const { pnn, records } of pulls) {
    for (const rec of records) {
      const k = Buffer.from(rec.key!).toString('hex');
      const old = kept.get(k);
      const rsn = Number(rec.header!.rsn);
      const fromDmaster = rec.header!.dmaster === pnn;
      if (old === undefined || rsn > Number(old.rec.header!.rsn) || (rsn === Number(old.rec.header!.rsn) && fromDmaster && !old.fromDmaster)) {
        kept.set(k, { rec, fromDmaster });
      }
    }
  }
  return [...kept.values()]
    .filter(({ rec }) => rec.data!.length > 0)
    .map(({ rec }) => ({ key: rec.key, header: { rsn: rec.header!.rsn, dmaster: leader, flags: (rec.header!.flags ?? 0) | RecordFlags.MIGRATED_WITH_DATA }, data: rec.data }));
}

let nextPushId = 1;

/** PushDbStart, batches of batchSize and PushDbCommit on node pnn; returns the push id. */
export function push(c: Cluster, pnn: number, records: WireRecord[], o: { generation: number; member?: boolean; term?: number; batchSize?: number }): number {
  const term = o.term ?? c.term;
  const pushId = nextPushId++;
  ctl(c, pnn, { pushDbStart: { term, pushId, dbId: c.dbId, name: dbName(c, pnn), persistent: false, generation: o.generation, member: o.member ?? true } }).body('ok');
  const size = o.batchSize ?? 3;
  for (let i = 0; i < records.length; i += size) ctl(c, pnn, batch(term, pushId, records.slice(i, i + size))).body('ok');
  ctl(c, pnn, { pushDbCommit: { term, pushId, generation: o.generation } }).body('ok');
  return pushId;
}

export function dbName(c: Cluster, pnn: number): string {
  return c.cores[pnn]!.ctx.dbs.get(c.dbId)!.info.name;
}

/** InstallGeneration on every participant: vnnmap = members, participants with the incarnations their freeze replies gave. */
export function install(c: Cluster, o: { generation: number; members: number[]; replies: FreezeReply[]; leader: number; term?: number }): void {
  const participants = o.replies.map((r) => ({ pnn: r.pnn, incarnation: r.incarnation }));
  for (const r of o.replies) ctl(c, r.pnn, { installGeneration: { term: o.term ?? c.term, generation: o.generation, pnns: o.members, participants, leader: o.leader } }).body('ok');
}

export interface RecoverOptions {
  generation?: number;
  term?: number;
  /** Participants that take part as witnesses (stopped, banned, configured): no records. */
  witnesses?: number[];
}

/**
 * A whole recovery led by `leader` over the participants `pnns` (every node answers the
 * freeze): G_max from the freeze replies, the copies that count merged (§5.4), pushed to the
 * members, installed everywhere, thawed. Returns the new generation.
 */
export function recover(c: Cluster, leader: number, pnns: number[], o: RecoverOptions = {}): number {
  const generation = o.generation ?? c.nextGeneration();
  const term = o.term ?? c.term;
  const fz = freeze(c, pnns, generation, term);
  c.advance(10);
  const replies = fz.map((p) => p.body('freezeReply'));
  const gMax = Math.max(...replies.map((r) => Number(r.installedGeneration)));
  const counts = (r: FreezeReply): boolean => r.dbs.some((d) => d.dbId === c.dbId && d.valid === true && Number(d.generation) >= gMax && gMax > 0);
  const pulls = replies.filter(counts).map((r) => ({ pnn: r.pnn, ...pullAll(c, r.pnn, generation, 0, term) }));
  const merged = merge(pulls, leader);
  const witnesses = new Set(o.witnesses ?? []);
  const members = pnns.filter((p) => !witnesses.has(p));
  for (const pnn of pnns) push(c, pnn, witnesses.has(pnn) ? [] : merged, { generation, member: !witnesses.has(pnn), term });
  install(c, { generation, members, replies, leader, term });
  c.generation = generation;
  for (const pnn of pnns) ctl(c, pnn, { thaw: { term, generation } }).body('ok');
  c.runUntilIdle();
  return generation;
}
