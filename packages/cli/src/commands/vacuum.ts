// `ctdbng vacuum [DB]` (DESIGN §10): asks this node's vacuumd, on its control socket
// (ipc://$CTDBNG_BASE/run/vacuumd.sock), to run one full vacuum pass now and waits for it:
// `{"db":"x.db","purged":N,"pending":N,"failed":N}` for one db, `{"dbs":[...]}` for every db.
// vacuumd is not dbd, so this command opens its own DEALER (zeromq, linger 0) for one request;
// zeromq is loaded only then, not at every `ctdbng` start.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { baseFromEnv } from '@ctdbng/common';
import { decodeEnvelope, encodeEnvelope, errorCodeName, type EnvelopeInit } from '@ctdbng/protocol';
import { CommandError, type CommandSpec } from './types.js';

/**
 * How long the command waits for the pass when -T is not given: a full pass over a large db takes
 * far longer than one dbd request (-T's default of 10 s). An explicit -T bounds the wait instead.
 */
export const vacuumWaitMsDefault = 120_000;

export interface VacuumDbReport {
  db: string;
  purged: number;
  pending: number;
  failed: number;
}

/** Sends one VacuumNow and returns the per-db reports (injected in tests). */
export type VacuumNowSender = (socketPath: string, dbName: string, timeoutMs: number) => Promise<VacuumDbReport[]>;

export function vacuumdSocketPath(env: NodeJS.ProcessEnv): string {
  return join(baseFromEnv(env), 'run', 'vacuumd.sock');
}

export const sendVacuumNow: VacuumNowSender = async (socketPath, dbName, timeoutMs) => {
  if (!existsSync(socketPath)) throw new CommandError(`cannot reach vacuumd: no socket at ${socketPath} (is ctdbng-vacuumd running?)`);
  const { Dealer } = await import('zeromq');
  const socket = new Dealer({ linger: 0 });
  // Closing the socket makes the pending receive reject: the wait ends on every path.
  const timer = setTimeout(() => socket.close(), timeoutMs);
  try {
    socket.connect(`ipc://${socketPath}`);
    const request: EnvelopeInit = { requestId: 1, vacuumNow: { dbName } };
    const [frame] = await socket.send(encodeEnvelope(request)).then(() => socket.receive()).catch(() => {
      throw new CommandError(`no reply from vacuumd in ${timeoutMs / 1000} s`);
    });
    const dec = decodeEnvelope(frame ?? new Uint8Array(0));
    if (!dec.ok) throw new CommandError(`bad reply from vacuumd: ${dec.error.message}`);
    const env = dec.envelope;
    if (env.body === 'error') {
      const code = env.error?.code ?? 0;
      throw new CommandError(`vacuumd: ${env.error?.message ?? 'error'} (${errorCodeName(code)})`);
    }
    if (env.body !== 'vacuumNowReply' || !env.vacuumNowReply) throw new CommandError(`unexpected reply from vacuumd: ${env.body ?? 'none'}`);
    return (env.vacuumNowReply.dbs ?? []).map((d) => ({ db: d.db ?? '', purged: Number(d.purged ?? 0), pending: Number(d.pending ?? 0), failed: Number(d.failed ?? 0) }));
  } finally {
    clearTimeout(timer);
    if (!socket.closed) socket.close();
  }
};

export function vacuumText(reports: readonly VacuumDbReport[]): string {
  if (reports.length === 0) return 'No volatile databases to vacuum\n';
  return reports.map((r) => `${r.db}: purged ${r.purged}, pending ${r.pending}, failed ${r.failed}\n`).join('');
}

export function makeVacuumCommand(send: VacuumNowSender = sendVacuumNow): CommandSpec {
  return {
    name: 'vacuum',
    summary: 'run one full vacuum pass now on this node (one db, or every volatile db) and wait (-T bounds the wait, else 120 s)',
    args: [{ name: 'db', optional: true }],
    scope: 'local',
    async run({ waitMs, env }, args) {
      const dbName = args[0] ?? '';
      const reports = await send(vacuumdSocketPath(env), dbName, waitMs ?? vacuumWaitMsDefault);
      if (dbName === '') return { json: { dbs: reports }, text: vacuumText(reports) };
      const one = reports[0];
      if (one === undefined) throw new CommandError(`vacuumd reported nothing for '${dbName}'`);
      return { json: { db: one.db, purged: one.purged, pending: one.pending, failed: one.failed }, text: vacuumText([one]) };
    },
  };
}

export const vacuumCommand: CommandSpec = makeVacuumCommand();
