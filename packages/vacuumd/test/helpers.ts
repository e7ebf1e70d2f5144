// Wiring of a vacuumd core on the fake dbd, virtual time and a state file. Not a test file.
// The core's requests go through the wire format (encoded, decoded) to the fake dbd, whose answer
// comes back through onReply on a later step, never inside the request; timers fire on a virtual
// clock. One event at a time, in time order (replies before timers due at the same time).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '@ctdbng/protocol';
import { silentLogger, type CoreClock, type ReplyResult, type RequestId } from '@ctdbng/common';
import { StateFile, VacuumCore, type DbReport, type PassReport, type RequestBody, type VacuumCoreDeps, type VacuumIo, type VacuumNowAnswer, type VacuumSettings, type VacuumTimerId } from '../src/index.js';
import { FakeDbd } from './fake-dbd.js';

export const settingsDefault: VacuumSettings = {
  pnn: 0,
  batchSizeCount: 1000,
  fullScanIntervalMs: 60_000,
  intervalMs: 10_000,
  requestTimeoutMs: 5_000,
  retryDelayMsMin: 100,
  retryDelayMsMax: 10_000,
};

/** Virtual time: only the rig moves it (a test may set `t`). */
export class FakeClock implements CoreClock {
  t = 1_000_000;
  nowMs(): number {
    return this.t;
  }
  nowNs(): number {
    return this.t * 1_000_000;
  }
}

interface Delivery {
  atMs: number;
  id: RequestId;
  result: ReplyResult;
}

/** Events handled at most by one settle(): a core that never goes quiet fails the test. */
const stepsMax = 1_000_000;

/** The core's io: requests answered by the fake dbd (after replyDelayMs), timers on the clock. */
export class VirtualIo implements VacuumIo {
  readonly timers = new Map<VacuumTimerId, number>();
  readonly deliveries: Delivery[] = [];
  /** Every request body, in order. */
  readonly requests: Envelope[] = [];
  /** One line per request and per answer: `<ms> <id> <body>`; the same events give the same trace. */
  readonly trace: string[] = [];
  /** Virtual ms dbd takes to answer. */
  replyDelayMs = 0;
  private idNext = 1;

  constructor(readonly clock: FakeClock, private readonly dbd: FakeDbd) {}

  request(body: RequestBody, timeoutMs: number): RequestId {
    const id = this.idNext++;
    const dec = decodeEnvelope(encodeEnvelope({ ...body, requestId: id }));
    if (!dec.ok) throw dec.error;
    this.requests.push(dec.envelope);
    this.trace.push(`${this.clock.t} ${id} ${dec.envelope.body ?? '?'}`);
    const reply = this.dbd.answer(dec.envelope);
    if (reply === undefined) {
      this.deliveries.push({ atMs: this.clock.t + timeoutMs, id, result: { ok: false, reason: `no reply in ${timeoutMs} ms` } });
      return id;
    }
    const back = decodeEnvelope(encodeEnvelope({ ...reply, requestId: id }));
    if (!back.ok) throw back.error;
    this.deliveries.push({ atMs: this.clock.t + this.replyDelayMs, id, result: { ok: true, env: back.envelope } });
    return id;
  }

  setTimer(id: VacuumTimerId, delayMs: number): void {
    this.timers.set(id, this.clock.t + delayMs);
  }

  cancelTimer(id: VacuumTimerId): void {
    this.timers.delete(id);
  }

  /** The next event: the earliest delivery or timer (ignoring the tick unless `tick`). */
  next(tick: boolean): { kind: 'reply'; d: Delivery } | { kind: 'timer'; id: VacuumTimerId; atMs: number } | undefined {
    let best: { kind: 'reply'; d: Delivery } | { kind: 'timer'; id: VacuumTimerId; atMs: number } | undefined;
    for (const d of this.deliveries) if (best === undefined || d.atMs < (best.kind === 'reply' ? best.d.atMs : best.atMs)) best = { kind: 'reply', d };
    for (const [id, atMs] of this.timers) {
      if (id === 'tick' && !tick) continue;
      if (best === undefined || atMs < (best.kind === 'reply' ? best.d.atMs : best.atMs)) best = { kind: 'timer', id, atMs };
    }
    return best;
  }
}

export interface Rig {
  dbd: FakeDbd;
  clock: FakeClock;
  io: VirtualIo;
  state: StateFile;
  core: VacuumCore;
  reports: PassReport[];
  /** Handles events until only the tick timer is left (the virtual clock moves to each). */
  settle(): void;
  /** Handles every event, ticks included, up to clock + ms. */
  runFor(ms: number): void;
  /** The interval tick now, then settle. */
  tick(): void;
  /** VacuumNow, run until answered. */
  vacuumNowAnswer(db?: string): VacuumNowAnswer;
  /** VacuumNow's reports (throws its error). */
  vacuumNow(db?: string): DbReport[];
}

export function tempStatePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vacuumd-test-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'vacuumd.sqlite');
}

export function rig(o: { settings?: Partial<VacuumSettings>; dbd?: FakeDbd; clock?: FakeClock; statePath?: string; deps?: Partial<VacuumCoreDeps> } = {}): Rig {
  const dbd = o.dbd ?? new FakeDbd();
  const clock = o.clock ?? new FakeClock();
  const io = new VirtualIo(clock, dbd);
  const state = new StateFile(o.statePath ?? ':memory:');
  onTestFinished(() => state.close());
  const reports: PassReport[] = [];
  const settings = { ...settingsDefault, ...o.settings };
  const core = new VacuumCore({ io, state, log: silentLogger(), settings: () => settings, onReport: (r) => reports.push(r), ...o.deps });

  /** One event; false when none is left (before `untilMs`). */
  const step = (tick: boolean, untilMs: number): boolean => {
    const ev = io.next(tick);
    if (ev === undefined) return false;
    const atMs = ev.kind === 'reply' ? ev.d.atMs : ev.atMs;
    if (atMs > untilMs) return false;
    clock.t = Math.max(clock.t, atMs);
    if (ev.kind === 'reply') {
      io.deliveries.splice(io.deliveries.indexOf(ev.d), 1);
      io.trace.push(`${clock.t} ${ev.d.id} ${ev.d.result.ok ? ev.d.result.env.body ?? '?' : 'no reply'}`);
      core.onReply(ev.d.id, ev.d.result);
    } else {
      io.timers.delete(ev.id);
      io.trace.push(`${clock.t} timer ${ev.id}`);
      core.onTimer(ev.id);
    }
    return true;
  };
  const loop = (tick: boolean, untilMs: number): void => {
    for (let i = 0; i < stepsMax; i++) if (!step(tick, untilMs)) return;
    throw new Error(`the vacuumd core did not go quiet within ${stepsMax} events`);
  };
  const settle = (): void => loop(false, Number.POSITIVE_INFINITY);
  const runFor = (ms: number): void => {
    const untilMs = clock.t + ms;
    loop(true, untilMs);
    clock.t = untilMs;
  };
  const vacuumNowAnswer = (db?: string): VacuumNowAnswer => {
    let answer: VacuumNowAnswer | undefined;
    core.vacuumNow(db, (a) => (answer = a));
    for (let i = 0; i < stepsMax && answer === undefined; i++) if (!step(false, Number.POSITIVE_INFINITY)) break;
    if (answer === undefined) throw new Error('VacuumNow was not answered');
    return answer;
  };
  const vacuumNow = (db?: string): DbReport[] => {
    const a = vacuumNowAnswer(db);
    if (!a.ok) throw a.error;
    return a.dbs;
  };
  const tick = (): void => {
    core.onTimer('tick');
    settle();
  };
  return { dbd, clock, io, state, core, reports, settle, runFor, tick, vacuumNowAnswer, vacuumNow };
}
