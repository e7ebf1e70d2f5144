// WAL checkpoints off the event loop (DESIGN §2.2): a worker thread with its own connections
// runs a PASSIVE checkpoint on every db file each interval. PASSIVE alone never lets the WAL
// restart while clients keep writing (it grew to hundreds of MB in a benchmark), and a WAL that
// only grows costs every writer: each commit then extends the file, which on ext4 made a
// shared-access lock+store+unlock ~10 µs (a third) slower than on a WAL rewritten in place. So a
// WAL past restartFramesMin frames also gets a RESTART (the next writer starts the WAL from its
// beginning again, overwriting the same file pages), and the worker comes back after
// busyIntervalMs instead of intervalMs while any file is that busy. RESTART does not wait for the
// writer lock, and holds writers off only for the copy of the frames written since the PASSIVE
// just before. A WAL file left larger than walBytesMax (a burst between two passes) is cut back
// with TRUNCATE, which waits up to busyMs for the writer lock (clients retry meanwhile). A db
// whose WAL has not changed since the last pass is skipped (an idle node costs nothing).
import { Worker } from 'node:worker_threads';

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.sqlitePath);
const conns = new Map();
let files = [];
/** The next pass; none while there is no file (an idle dbd with no db wakes nobody). */
let timer;
parentPort.on('message', (m) => {
  files = m;
  if (timer === undefined) timer = setTimeout(tick, workerData.intervalMs);
});
/** The WAL file's size and modification time: unchanged means nobody wrote since. */
function walState(p) {
  try { const st = statSync(p + '-wal'); return { bytes: st.size, stamp: st.size + ':' + st.mtimeMs }; } catch { return { bytes: 0, stamp: '' }; }
}
const walSeen = new Map();
const lastFrames = new Map();
const sleepCell = new Int32Array(new SharedArrayBuffer(4));
/**
 * RESTART without waiting in SQLite (its busy handler sleeps whole milliseconds, and RESTART
 * holds writers off while it waits): with the writer lock free it copies the frames written
 * since the PASSIVE and is done; otherwise SQLite does a PASSIVE instead, and this tries again
 * after a short sleep of this thread, between two transactions of the writers.
 */
function restart(c) {
  c.pragma('busy_timeout = 0');
  for (let i = 0; i < workerData.restartTriesMax; i++) {
    if (c.pragma('wal_checkpoint(RESTART)')[0]?.busy === 0) return;
    Atomics.wait(sleepCell, 0, 0, workerData.restartRetryMs);
  }
}
/** One file's pass; true when clients keep writing to it. */
function pass(p, persistent) {
  const wal = walState(p);
  if (wal.bytes === 0) return false;
  const written = walSeen.get(p) !== wal.stamp;
  // Nobody wrote since the last pass: nothing to copy back (an idle db costs a stat), but a WAL
  // file left large by a burst is cut back now, once (not while writers are busy: they would
  // extend the file again from nothing).
  if (!written && wal.bytes <= workerData.walBytesMax) return false;
  const c = connOf(p, persistent);
  if (!written) {
    c.pragma('busy_timeout = ' + workerData.busyMs);
    c.pragma('wal_checkpoint(TRUNCATE)');
    walSeen.set(p, walState(p).stamp);
    return false;
  }
  // PASSIVE never blocks a writer; it copies what it can and says how long the WAL is.
  const frames = c.pragma('wal_checkpoint(PASSIVE)')[0]?.log ?? 0;
  const before = lastFrames.get(p) ?? 0;
  lastFrames.set(p, frames);
  if (frames >= workerData.restartFramesMin) restart(c);
  walSeen.set(p, walState(p).stamp);
  // Clients writing steadily (not dbd's few lease writes a second): come back soon.
  return (frames > before ? frames - before : frames) >= workerData.busyFramesMin;
}
function connOf(p, persistent) {
  let c = conns.get(p);
  if (c === undefined) {
    c = new Database(p, { fileMustExist: true });
    // A checkpoint syncs the WAL and the db file unless synchronous is OFF: a volatile db has
    // nothing to make durable (its writers run with OFF too), a persistent one keeps FULL.
    c.pragma('synchronous = ' + (persistent ? 'FULL' : 'OFF'));
    conns.set(p, c);
  }
  return c;
}
function tick() {
  let busy = false;
  for (const f of files) {
    try {
      if (pass(f.path, f.persistent)) busy = true;
    } catch (err) {
      // Busy past busyMs, or a file gone: the next pass tries again.
    }
  }
  for (const [p, c] of conns) if (!files.some((f) => f.path === p)) { c.close(); conns.delete(p); lastFrames.delete(p); walSeen.delete(p); }
  timer = files.length === 0 ? undefined : setTimeout(tick, busy ? workerData.busyIntervalMs : workerData.intervalMs);
}
`;

export interface CheckpointerOptions {
  /** Passes of an idle node. */
  intervalMs: number;
  /** Passes while a WAL keeps reaching restartFramesMin. */
  busyIntervalMs: number;
  /** WAL frames (pages written) from which a pass restarts the WAL. */
  restartFramesMin: number;
  /** Frames written since the last pass that make the next pass come after busyIntervalMs. */
  busyFramesMin: number;
  /** How often a RESTART that found the writer lock taken is tried again in one pass. */
  restartTriesMax: number;
  /** The sleep between two of those tries. */
  restartRetryMs: number;
  /** How long TRUNCATE waits for the writer lock. */
  busyMs: number;
  /** A WAL file larger than this is truncated. */
  walBytesMax: number;
}

export class Checkpointer {
  /** Started with the first db file: a dbd with no db attached (as at start) runs no thread. */
  private worker: Worker | undefined;

  constructor(private readonly sqlitePath: string, private readonly o: CheckpointerOptions) {}

  private files = '[]';

  /**
   * The db files to keep checkpointed (all attached dbs of this node); posted only when they
   * change. dbd calls this when a db is attached, not on a timer; the worker thread starts with
   * the first file and passes every intervalMs only while it has a file.
   */
  setFiles(files: { path: string; persistent: boolean }[]): void {
    const key = JSON.stringify(files);
    if (key === this.files) return;
    this.files = key;
    if (this.worker === undefined) {
      this.worker = new Worker(workerSource, { eval: true, workerData: { sqlitePath: this.sqlitePath, ...this.o } });
      this.worker.unref();
    }
    this.worker.postMessage(files);
  }

  /** Whether the worker thread runs (tests). */
  get started(): boolean {
    return this.worker !== undefined;
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
  }
}
