// The supervisor's step after a dbd (re)starts: wait until it answers Ping, then install the
// static vnnmap. Imported lazily by supervise-main, after the daemons are spawned, so loading
// the client library is not on the start path.
import { join } from 'node:path';
import { readNodesFile } from '@ctdbng/common';
import { connectWhenUp } from './node-client.js';
import { installStaticVnnmap } from './static-vnnmap.js';

/** How long a new dbd may take to answer before the step gives up (logged; `up` reports it). */
const dbdAnswerTimeoutMs = 30_000;

export type StepResult = 'installed' | 'no-answer' | 'aborted';

export async function afterDbdStart(dir: string, signal: AbortSignal): Promise<StepResult> {
  const client = await connectWhenUp(dir, 'ctdbng-supervisor', signal, Date.now() + dbdAnswerTimeoutMs);
  if (client === undefined) return signal.aborted ? 'aborted' : 'no-answer';
  try {
    await installStaticVnnmap(client, readNodesFile(join(dir, 'nodes')), signal);
    return 'installed';
  } finally {
    await client.close();
  }
}
