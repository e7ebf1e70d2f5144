// The full scan (DESIGN §4.1, the safety net): every VacuumFullScanInterval, a local traverse of
// the db (TraverseStart{local: true}: this node's store with headers, tombstones included). Every
// tombstone (empty data) whose dmaster is this node and that is not pending becomes a work item,
// so a deletion the feed missed is still vacuumed.
import type { Dbd } from './dbd-port.js';
import type { StateFile } from './state-file.js';

export interface FullScanResult {
  records: number;
  tombstones: number;
  added: number;
}

export async function fullScan(dbd: Dbd, state: StateFile, dbId: number, pnn: number, nowMs: () => number): Promise<FullScanResult> {
  const out: FullScanResult = { records: 0, tombstones: 0, added: 0 };
  for await (const batch of dbd.traverseLocal(dbId)) {
    out.records += batch.length;
    const ours = batch.filter((r) => r.dataBytes === 0 && r.dmaster === pnn);
    out.tombstones += ours.length;
    // One transaction per traverse batch: a batch is bounded (1,000 records or 1 MiB, §2.3).
    out.added += state.addIfAbsent(dbId, ours.map((r) => ({ key: r.key, rsn: r.rsn })), nowMs());
  }
  return out;
}
