// WAL checkpoints off the event loop (DESIGN §2.2): a worker thread with its own connections
// runs a PASSIVE checkpoint on every db file each interval, and TRUNCATE once the WAL passed a
// size: PASSIVE alone never lets the WAL restart while clients keep writing (it grew to hundreds
// of MB in a benchmark), and TRUNCATE waits for the writer lock, which must not stall dbd.
import { Worker } from 'node:worker_threads';

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.sqlitePath);
const conns = new Map();
const walSeen = new Map();
let paths = [];
parentPort.on('message', (m) => { paths = m; });
function walBytes(p) {
  try { return statSync(p + '-wal').size; } catch { return 0; }
}
setInterval(() => {
  for (const p of paths) {
    // An idle db: the WAL has not changed since the last checkpoint, nothing to copy back.
    const wal = walBytes(p);
    if (wal === 0 || walSeen.get(p) === wal) continue;
    try {
      let c = conns.get(p);
      if (c === undefined) {
        c = new Database(p, { fileMustExist: true });
        c.pragma('busy_timeout = ' + workerData.busyMs);
        conns.set(p, c);
      }
      // PASSIVE never blocks a writer; a WAL that kept growing anyway is restarted, which holds
      // writers off for at most busyMs plus the copy of what PASSIVE left.
      c.pragma(wal > workerData.walBytesMax ? 'wal_checkpoint(TRUNCATE)' : 'wal_checkpoint(PASSIVE)');
      walSeen.set(p, walBytes(p));
    } catch (err) {
      // Busy past busyMs, or a file gone: the next interval tries again.
    }
  }
  for (const [p, c] of conns) if (!paths.includes(p)) { c.close(); conns.delete(p); walSeen.delete(p); }
}, workerData.intervalMs);
`;

export class Checkpointer {
  private readonly worker: Worker;

  constructor(sqlitePath: string, intervalMs: number, busyMs: number, walBytesMax: number) {
    this.worker = new Worker(workerSource, { eval: true, workerData: { sqlitePath, intervalMs, busyMs, walBytesMax } });
    this.worker.unref();
  }

  private paths = '';

  /** The db files to keep checkpointed (all attached dbs of this node); posted only when they change. */
  setPaths(paths: string[]): void {
    const key = paths.join('\n');
    if (key === this.paths) return;
    this.paths = key;
    this.worker.postMessage(paths);
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
