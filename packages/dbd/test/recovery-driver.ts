// The recovery steps of DESIGN §5.3 driven by a test playing the leader's recoverd against the
// in-memory cluster: freeze, pull, merge, push, install generation, thaw. Not a test file.
import type { ctdbng, EnvelopeInit } from '@ctdbng/protocol';
import { RecordFlags } from '@ctdbng/store';
import type { Cluster, Pending } from './harness.js';

export type WireRecord = ctdbng.v1.IRecord;

/** A recovery control (or any request) from the node's recoverd, run until idle. */
export function ctl(c: Cluster, pnn: number, init: EnvelopeInit): Pending {
  return c.call(pnn, 'recoverd', init);
}

/** Sends Freeze to each node; the handles answer once the node drained (timers may be needed). */
export function freeze(c: Cluster, pnns: number[], generation: number, term = 1): Pending[] {
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

/** Every record of the cluster's db on node pnn, page by page. */
export function pullAll(c: Cluster, pnn: number, recordsMax = 0, term = 1): Pulled {
  const out: Pulled = { records: [], valid: false, generation: 0, pages: 0 };
  let after: Uint8Array | undefined;
  for (;;) {
    const r = ctl(c, pnn, { pullDb: { term, dbId: c.dbId, afterKey: after ?? Buffer.alloc(0), hasAfter: after !== undefined, recordsMax } }).body('pullDbReply');
    out.records.push(...r.records);
    out.valid = r.valid;
    out.generation = r.generation;
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
export function push(c: Cluster, pnn: number, records: WireRecord[], o: { generation: number; bumpRsn?: boolean; term?: number; batchSize?: number }): number {
  const term = o.term ?? 1;
  const pushId = nextPushId++;
  ctl(c, pnn, { pushDbStart: { term, pushId, dbId: c.dbId, name: dbName(c, pnn), persistent: false, bumpRsn: o.bumpRsn ?? false } }).body('ok');
  const size = o.batchSize ?? 3;
  for (let i = 0; i < records.length; i += size) ctl(c, pnn, { pushDbBatch: { term, pushId, records: records.slice(i, i + size) } }).body('ok');
  ctl(c, pnn, { pushDbCommit: { term, pushId, generation: o.generation } }).body('ok');
  return pushId;
}

export function dbName(c: Cluster, pnn: number): string {
  return c.cores[pnn]!.ctx.dbs.get(c.dbId)!.info.name;
}

/** A whole recovery led by `leader` over `pnns` into `generation` (every node answers the freeze). */
export function recover(c: Cluster, leader: number, pnns: number[], generation: number, term = 1): void {
  const fz = freeze(c, pnns, generation, term);
  c.advance(10);
  for (const p of fz) p.body('ok');
  const pulls = pnns.map((pnn) => ({ pnn, ...pullAll(c, pnn, 0, term) })).filter((p) => p.valid && p.generation === c.generation);
  const merged = merge(pulls, leader);
  for (const pnn of pnns) push(c, pnn, merged, { generation, bumpRsn: pnn === leader, term });
  for (const pnn of pnns) ctl(c, pnn, { installGeneration: { term, generation, pnns } }).body('ok');
  c.generation = generation;
  for (const pnn of pnns) ctl(c, pnn, { thaw: { term, generation } }).body('ok');
}
