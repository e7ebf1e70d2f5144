// The per-node supervisor (DESIGN §11): starts each daemon of the node, restarts one that exits
// unexpectedly with exponential backoff, and stops them all on request. Processes and clocks come
// in through SupervisorDeps so tests drive it with fakes.

/** First restart delay; doubles per quick crash up to restartDelayMsMax. */
export const restartDelayMsMin = 100;
export const restartDelayMsMax = 5_000;
/** A daemon that ran this long before exiting restarts after restartDelayMsMin again. */
export const restartResetUptimeMs = 10_000;
/** How long a stopping daemon gets between SIGTERM and SIGKILL. */
export const stopGraceMs = 5_000;

/** The delay before restarting a daemon that exited after `uptimeMs`, given the previous delay. */
export function nextRestartDelayMs(previousDelayMs: number, uptimeMs: number): number {
  if (uptimeMs >= restartResetUptimeMs || previousDelayMs <= 0) return restartDelayMsMin;
  return Math.min(previousDelayMs * 2, restartDelayMsMax);
}

export interface ChildExit {
  code: number | null;
  signal: string | null;
}

export interface ChildHandle {
  readonly pid: number | undefined;
  kill(sig: 'SIGTERM' | 'SIGKILL'): void;
  /** Settles once, when the process has exited (or failed to start). */
  readonly exited: Promise<ChildExit>;
}

export interface SupervisorDeps {
  spawn(daemon: string): ChildHandle;
  pidChanged(daemon: string, pid: number | undefined): void;
  now(): number;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  log(msg: string, fields: Record<string, unknown>): void;
}

export type SupervisorState = 'idle' | 'running' | 'stopping' | 'stopped';

export class Supervisor {
  private state: SupervisorState = 'idle';
  private readonly stopController = new AbortController();
  private readonly children = new Map<string, ChildHandle>();
  private loops: Promise<void>[] = [];
  /** Restarts per daemon, for logs and tests. */
  readonly restarts = new Map<string, number>();

  constructor(private readonly daemons: readonly string[], private readonly deps: SupervisorDeps) {}

  get status(): SupervisorState {
    return this.state;
  }

  start(): void {
    if (this.state !== 'idle') throw new Error(`supervisor: start while ${this.state}`);
    this.state = 'running';
    this.loops = this.daemons.map((d) => this.keepRunning(d));
  }

  /** SIGTERM every daemon, SIGKILL after stopGraceMs, and wait for every restart loop to end. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.stopController.abort();
    await Promise.all([...this.children.values()].map((c) => this.stopChild(c)));
    await Promise.all(this.loops);
    this.state = 'stopped';
  }

  private async stopChild(child: ChildHandle): Promise<void> {
    child.kill('SIGTERM');
    const timer = new AbortController();
    const killed = this.deps.sleep(stopGraceMs, timer.signal).then(() => {
      if (!timer.signal.aborted) child.kill('SIGKILL');
    });
    await child.exited;
    timer.abort();
    await killed;
  }

  private async keepRunning(daemon: string): Promise<void> {
    let delayMs = 0;
    while (this.state === 'running') {
      if (delayMs > 0) await this.deps.sleep(delayMs, this.stopController.signal);
      if (this.state !== 'running') break;
      const startedAtMs = this.deps.now();
      const exit = await this.runOnce(daemon);
      if (this.state !== 'running') break;
      delayMs = nextRestartDelayMs(delayMs, this.deps.now() - startedAtMs);
      this.restarts.set(daemon, (this.restarts.get(daemon) ?? 0) + 1);
      this.deps.log('daemon exited; restarting', { child: daemon, ...exit, restartInMs: delayMs });
    }
  }

  private async runOnce(daemon: string): Promise<ChildExit> {
    const child = this.deps.spawn(daemon);
    this.children.set(daemon, child);
    this.deps.pidChanged(daemon, child.pid);
    this.deps.log('daemon started', { child: daemon, pid: child.pid });
    try {
      return await child.exited;
    } finally {
      this.children.delete(daemon);
      this.deps.pidChanged(daemon, undefined);
    }
  }
}
