// The cluster lock (DESIGN §5.1), in CTDB's mutex-helper style: a leader must also hold it.
// Config `[cluster] cluster lock =`
//   `!<command line>`            a helper run with `sh -c` (CTDB's syntax);
//   `etcd://host:port/key/path`  the built-in etcd helper (lock-etcd-helper.js);
//   `<file path>`                the built-in file helper (lock-file-helper.js).
// Helper protocol: it prints "0" on stdout once it holds the lock and holds it until it is
// killed (SIGTERM) or its stdin closes (recoverd gone). "1" = held by someone else, "2" =
// timeout, "3" = error, then it exits. Printing anything more, or exiting, means the lock is lost.

export type ClusterLockSpec =
  | { kind: 'command'; command: string }
  | { kind: 'file'; path: string }
  | { kind: 'etcd'; url: string; key: string };

export class ClusterLockConfigError extends Error {
  override readonly name = 'ClusterLockConfigError';
}

export function parseClusterLock(value: string | undefined): ClusterLockSpec | undefined {
  const v = value?.trim() ?? '';
  if (v === '') return undefined;
  if (v.startsWith('!')) {
    const command = v.slice(1).trim();
    if (command === '') throw new ClusterLockConfigError('cluster lock = ! needs a helper command');
    return { kind: 'command', command };
  }
  if (v.startsWith('etcd://')) {
    const m = /^etcd:\/\/([^/]+)(\/.+)$/.exec(v);
    if (m === null) throw new ClusterLockConfigError(`cluster lock = ${v}: expected etcd://host:port/key`);
    return { kind: 'etcd', url: `http://${m[1]!}`, key: m[2]! };
  }
  if (!v.startsWith('/')) throw new ClusterLockConfigError(`cluster lock = ${v}: a lock file path must be absolute`);
  return { kind: 'file', path: v };
}

export type HelperState = 'pending' | 'held' | 'contended' | 'lost';

/** Reads a helper's stdout as it arrives. */
export class HelperOutput {
  private text = '';
  private stateValue: HelperState = 'pending';
  private detail = '';

  get state(): HelperState {
    return this.stateValue;
  }
  get why(): string {
    return this.detail;
  }

  /** Feeds output; returns the state after it. */
  feed(chunk: string): HelperState {
    if (this.stateValue === 'lost' || this.stateValue === 'contended') return this.stateValue;
    this.text = (this.text + chunk).slice(0, 1024);
    const out = this.text.trim();
    if (out === '') return this.stateValue;
    if (this.stateValue === 'pending') {
      if (out === '0') this.stateValue = 'held';
      else if (out.startsWith('1')) this.set('contended', 'cluster lock held by another node');
      else this.set('lost', `helper said '${out.slice(0, 40)}'`);
      return this.stateValue;
    }
    // Held, and the helper printed more than its "0".
    if (out !== '0') this.set('lost', `helper said '${out.slice(0, 40)}' after taking the lock`);
    return this.stateValue;
  }

  /** The helper exited. */
  exited(code: number | null, signal: string | null): HelperState {
    if (this.stateValue !== 'contended') this.set('lost', `helper exited (code ${code}, signal ${signal})`);
    return this.stateValue;
  }

  private set(s: HelperState, why: string): void {
    this.stateValue = s;
    this.detail = why;
  }
}
