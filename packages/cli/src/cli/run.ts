// Running one `ctdbng` command line (DESIGN §10): parse, connect to the local dbd, run on the
// addressed node(s), print. Exit 0 ok, 1 failure with one line on stderr, 2 usage error.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { baseFromEnv } from '@ctdbng/common';
import type { CliClient } from '../client-types.js';
import { COMMANDS } from '../commands/index.js';
import type { CommandContext, CommandSpec, Output, Progress } from '../commands/types.js';
import { lines } from '../format/nodes.js';
import type { ParseResult } from './program.js';
import { quickParse } from './quick-parse.js';
import { exitUsage, type GlobalOptions } from './values.js';

export interface ConnectOptions {
  base?: string;
  socket?: string;
  name?: string;
  timeoutMs?: number;
}

export interface CtdbngIo {
  stdout(s: string): void;
  stderr(s: string): void;
  env: NodeJS.ProcessEnv;
  /** Progress goes to stderr only when it is a terminal. */
  stderrIsTty: boolean;
  connect(o: ConnectOptions): Promise<CliClient>;
}

export const exitOk = 0;
export const exitFailure = 1;

/** The message of any thrown value as one line, with the error code name when it has one. */
export function errorLine(err: unknown): string {
  if (!(err instanceof Error)) return String(err).split('\n')[0] ?? '';
  const first = err.message.split('\n')[0] ?? '';
  const codeName: unknown = (err as { codeName?: unknown }).codeName;
  return typeof codeName === 'string' && !first.includes(codeName) ? `${first} (${codeName})` : first;
}

/** The filesystem path of the client socket (DESIGN §9: $CTDBNG_BASE/run/dbd.sock). */
export function socketPath(globals: GlobalOptions, env: NodeJS.ProcessEnv): string {
  if (globals.socket !== undefined) return globals.socket.replace(/^ipc:\/\//, '');
  return join(baseFromEnv(env), 'run', 'dbd.sock');
}

/** A plain command line without commander (quick-parse.ts); help, errors and the rest with it. */
async function parse(argv: readonly string[], io: CtdbngIo): Promise<ParseResult> {
  const quick = quickParse(argv, COMMANDS);
  if (quick !== undefined) return { kind: 'run', ...quick };
  const { parseCommandLine } = await import('./program.js');
  return parseCommandLine(argv, COMMANDS, io);
}

export async function runCtdbng(argv: readonly string[], io: CtdbngIo): Promise<number> {
  const parsed = await parse(argv, io);
  if (parsed.kind === 'exit') return parsed.code;
  const { spec, args, globals } = parsed;
  if (spec.scope === 'one' && globals.node === 'all') {
    io.stderr(`ctdbng: ${spec.name} takes -n PNN, not -n all\n`);
    return exitUsage;
  }
  let client: CliClient | undefined;
  try {
    client = await connectChecked(globals, io);
    return await runOnTargets(client, spec, args, globals, io);
  } catch (err) {
    io.stderr(`ctdbng: ${errorLine(err)}\n`);
    return exitFailure;
  } finally {
    await client?.close();
  }
}

async function connectChecked(globals: GlobalOptions, io: CtdbngIo): Promise<CliClient> {
  const path = socketPath(globals, io.env);
  // Fail at once with a clear line instead of waiting out the Hello timeout.
  if (!existsSync(path)) throw new Error(`cannot reach dbd: no socket at ${path} (is ctdbng-dbd running? is CTDBNG_BASE set?)`);
  return io.connect({ socket: path, name: 'ctdbng', timeoutMs: globals.timeoutMs });
}

function contextFor(client: CliClient, pnn: number | undefined, globals: GlobalOptions, io: CtdbngIo): CommandContext {
  return {
    client,
    node: { timeoutMs: globals.timeoutMs, ...(pnn !== undefined ? { pnn } : {}) },
    json: globals.json,
    waitMs: globals.timelimitExplicit ? globals.timeoutMs : undefined,
    env: io.env,
    write: (s) => io.stdout(s),
    progress: ttyProgress(io),
  };
}

async function runOnTargets(client: CliClient, spec: CommandSpec, args: string[], globals: GlobalOptions, io: CtdbngIo): Promise<number> {
  const target = spec.scope === 'local' ? undefined : globals.node;
  if (target !== 'all') {
    const out = await spec.run(contextFor(client, target, globals, io), args);
    io.stdout(globals.json ? `${JSON.stringify(out.json)}\n` : out.text);
    return out.exitCode ?? exitOk;
  }
  return runOnAllNodes(client, spec, args, globals, io);
}

type NodeOutcome = { pnn: number; out: Output } | { pnn: number; error: string };

/** `-n all`: the control on every node of the node map (not deleted), printed per node. */
async function runOnAllNodes(client: CliClient, spec: CommandSpec, args: string[], globals: GlobalOptions, io: CtdbngIo): Promise<number> {
  const map = await client.getNodeMap({ timeoutMs: globals.timeoutMs });
  const pnns = map.nodes.filter((n) => !n.flags.includes('DELETED')).map((n) => n.pnn);
  const outcomes = await Promise.all(
    pnns.map(async (pnn): Promise<NodeOutcome> => {
      try {
        return { pnn, out: await spec.run(contextFor(client, pnn, globals, io), args) };
      } catch (err) {
        return { pnn, error: errorLine(err) };
      }
    }),
  );
  io.stdout(globals.json ? `${JSON.stringify(outcomes.map(perNodeJson))}\n` : outcomes.map(perNodeText).join(''));
  const failed = outcomes.filter((o): o is { pnn: number; error: string } => 'error' in o);
  if (failed.length === 0) return exitOk;
  io.stderr(`ctdbng: ${failed.map((f) => `node ${f.pnn}: ${f.error}`).join('; ')}\n`);
  return exitFailure;
}

/** `{pnn, ...document}` for an object document, `{pnn, result}` otherwise, `{pnn, error}` on failure. */
export function perNodeJson(o: NodeOutcome): unknown {
  if ('error' in o) return { pnn: o.pnn, error: o.error };
  const doc = o.out.json;
  if (typeof doc === 'object' && doc !== null && !Array.isArray(doc)) return { pnn: o.pnn, ...doc };
  return { pnn: o.pnn, result: doc };
}

export function perNodeText(o: NodeOutcome): string {
  const body = 'error' in o ? lines([`error: ${o.error}`]) : o.out.text;
  return `== node ${o.pnn} ==\n${body}`;
}

/** "Traversed N records" on a TTY, rewritten in place and cleared at the end; nothing otherwise. */
export function ttyProgress(io: Pick<CtdbngIo, 'stderr' | 'stderrIsTty'>): Progress {
  let shown = false;
  return {
    update(count) {
      if (!io.stderrIsTty) return;
      shown = true;
      io.stderr(`\rTraversed ${count} records`);
    },
    done() {
      if (shown) io.stderr('\r\x1b[K');
      shown = false;
    },
  };
}
