// Runs the cluster lock helper (core/cluster-lock.ts has the protocol). The helper runs in its
// own process group (detached), so release() kills it and everything it started (flock, sh,
// sleep); its stdin is a pipe from recoverd, so if recoverd dies the helper sees EOF and lets
// the lock go even without a kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@ctdbng/common';
import { HelperOutput, type ClusterLockSpec } from '../core/cluster-lock.js';
import type { ClusterLock } from '../core/io.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Time a released helper gets for SIGTERM before SIGKILL. */
export const helperKillGraceMs = 2_000;

export interface LockEvents {
  onHeld(): void;
  onLost(why: string): void;
}

/** The command line of a helper: [file, ...args] run directly (no shell) unless `!` was configured. */
export function helperArgv(spec: ClusterLockSpec, etcdTtlSeconds: number): { file: string; args: string[] } {
  switch (spec.kind) {
    case 'command':
      return { file: '/bin/sh', args: ['-c', spec.command] };
    case 'file':
      return { file: process.execPath, args: [join(here, 'lock-file-helper.js'), spec.path] };
    case 'etcd':
      return { file: process.execPath, args: [join(here, 'lock-etcd-helper.js'), spec.url, spec.key, String(etcdTtlSeconds)] };
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  // The whole group, even when the helper itself has exited: what it started may hold the lock.
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is gone already — nothing holds the lock.
  }
}

export class HelperLock implements ClusterLock {
  private child: ChildProcess | undefined;

  constructor(private readonly spec: ClusterLockSpec, private readonly etcdTtlSeconds: number, private readonly log: Logger, private readonly events: LockEvents) {}

  take(): void {
    if (this.child !== undefined) return;
    const { file, args } = helperArgv(this.spec, this.etcdTtlSeconds);
    const child = spawn(file, args, { detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    const out = new HelperOutput();
    const current = (): boolean => this.child === child;
    this.log.info({ helper: this.spec.kind, pid: child.pid }, 'taking the cluster lock');
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (!current()) return;
      const before = out.state;
      const after = out.feed(chunk);
      if (after === before) return;
      if (after === 'held') {
        this.log.info({ pid: child.pid }, 'cluster lock held');
        this.events.onHeld();
      } else {
        this.lost(out.why);
      }
    });
    // EPIPE on stdin when the helper exits: the exit handler reports it.
    child.stdin!.on('error', () => undefined);
    child.once('error', (err) => {
      if (current()) this.lost(`helper not started: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      if (!current()) return;
      out.exited(code, signal);
      this.lost(out.why);
    });
  }

  private lost(why: string): void {
    this.log.warn({ why }, 'cluster lock lost or not taken');
    this.release();
    this.events.onLost(why);
  }

  release(): void {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    child.stdin?.end();
    killGroup(child, 'SIGTERM');
    const t = setTimeout(() => killGroup(child, 'SIGKILL'), helperKillGraceMs);
    t.unref();
  }
}
