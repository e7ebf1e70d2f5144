import { describe, expect, test } from 'vitest';
import {
  nextRestartDelayMs, restartDelayMsMax, restartDelayMsMin, restartResetUptimeMs, stopGraceMs, Supervisor,
  type ChildExit, type ChildHandle, type SupervisorDeps,
} from '../src/cluster/supervisor.js';

describe('restart backoff', () => {
  test('starts at 100 ms and doubles per quick crash up to 5 s', () => {
    const delays: number[] = [];
    let d = 0;
    for (let i = 0; i < 9; i++) delays.push((d = nextRestartDelayMs(d, 50)));
    expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    expect(restartDelayMsMin).toBe(100);
    expect(restartDelayMsMax).toBe(5000);
  });
  test('a daemon that ran 10 s before exiting restarts after 100 ms again', () => {
    expect(nextRestartDelayMs(5000, restartResetUptimeMs)).toBe(100);
    expect(nextRestartDelayMs(5000, restartResetUptimeMs - 1)).toBe(5000);
  });
});

/** A fake process: exits when told, or when signalled (SIGTERM ignored if `stubborn`). */
class FakeChild implements ChildHandle {
  readonly signals: string[] = [];
  private resolveExit!: (e: ChildExit) => void;
  readonly exited = new Promise<ChildExit>((r) => (this.resolveExit = r));
  constructor(readonly pid: number, private readonly stubborn: boolean) {}
  kill(sig: 'SIGTERM' | 'SIGKILL'): void {
    this.signals.push(sig);
    if (sig === 'SIGKILL' || !this.stubborn) this.exit({ code: null, signal: sig });
  }
  exit(e: ChildExit = { code: 1, signal: null }): void {
    this.resolveExit(e);
  }
}

/** Fake time: sleeps resolve when the test advances the clock past them. */
function harness(opts: { stubborn?: boolean } = {}) {
  let nowMs = 0;
  let nextPid = 100;
  const sleepers: { until: number; resolve: () => void }[] = [];
  const children: FakeChild[] = [];
  const pids: (number | undefined)[] = [];
  const sleeps: number[] = [];
  const deps: SupervisorDeps = {
    spawn: () => {
      const c = new FakeChild(nextPid++, opts.stubborn ?? false);
      children.push(c);
      return c;
    },
    pidChanged: (_d, pid) => void pids.push(pid),
    now: () => nowMs,
    sleep: (ms, signal) => new Promise<void>((resolve) => {
      sleeps.push(ms);
      const s = { until: nowMs + ms, resolve };
      sleepers.push(s);
      signal.addEventListener('abort', () => resolve(), { once: true });
    }),
    log: () => undefined,
  };
  const flush = () => new Promise((r) => setImmediate(r));
  const advance = async (ms: number) => {
    nowMs += ms;
    for (const s of sleepers.filter((x) => x.until <= nowMs)) s.resolve();
    await flush();
  };
  return { deps, children, pids, sleeps, advance, flush };
}

describe('Supervisor', () => {
  test('starts every daemon of the table', async () => {
    const h = harness();
    const sup = new Supervisor(['dbd', 'vacuumd'], h.deps);
    sup.start();
    await h.flush();
    expect(h.children.map((c) => c.pid)).toEqual([100, 101]);
    await sup.stop();
  });

  test('a daemon that exits is restarted with a doubling delay', async () => {
    const h = harness();
    const sup = new Supervisor(['dbd'], h.deps);
    sup.start();
    await h.flush();
    h.children[0]!.exit();
    await h.flush();
    expect(h.sleeps).toEqual([100]);
    expect(h.children).toHaveLength(1);
    await h.advance(100);
    expect(h.children).toHaveLength(2);
    h.children[1]!.exit();
    await h.flush();
    expect(h.sleeps).toEqual([100, 200]);
    await h.advance(200);
    expect(h.children).toHaveLength(3);
    expect(sup.restarts.get('dbd')).toBe(2);
    await sup.stop();
  });

  test('the pid is reported on start and cleared on exit', async () => {
    const h = harness();
    const sup = new Supervisor(['dbd'], h.deps);
    sup.start();
    await h.flush();
    h.children[0]!.exit();
    await h.flush();
    expect(h.pids).toEqual([100, undefined]);
    await sup.stop();
  });

  test('stop sends SIGTERM and no restart follows', async () => {
    const h = harness();
    const sup = new Supervisor(['dbd'], h.deps);
    sup.start();
    await h.flush();
    await sup.stop();
    expect(h.children[0]!.signals).toEqual(['SIGTERM']);
    expect(h.children).toHaveLength(1);
    expect(sup.status).toBe('stopped');
  });

  test('a daemon ignoring SIGTERM gets SIGKILL after the grace period', async () => {
    const h = harness({ stubborn: true });
    const sup = new Supervisor(['dbd'], h.deps);
    sup.start();
    await h.flush();
    const stopped = sup.stop();
    await h.flush();
    expect(h.children[0]!.signals).toEqual(['SIGTERM']);
    await h.advance(stopGraceMs);
    await stopped;
    expect(h.children[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
  });

  test('stop during a restart delay ends the loop without starting the daemon', async () => {
    const h = harness();
    const sup = new Supervisor(['dbd'], h.deps);
    sup.start();
    await h.flush();
    h.children[0]!.exit();
    await h.flush();
    await sup.stop();
    await h.advance(1000);
    expect(h.children).toHaveLength(1);
  });
});
