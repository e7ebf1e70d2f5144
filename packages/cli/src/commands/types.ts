// A command of `ctdbng` (DESIGN §10) is one row of a table: its name, arguments, whether `-n`
// addresses it to another node, and a run function returning JSON and text renderings.
import type { CliClient, NodeOpts } from '../client-types.js';

export interface ArgSpec {
  name: string;
  optional?: boolean;
  /** The only words accepted (commander refuses others: exit 2). */
  choices?: readonly string[];
  /** A decimal or 0x integer (refused otherwise: exit 2). */
  integer?: boolean;
  /** A decimal integer of 1 or more (refused otherwise: exit 2). */
  positiveInteger?: boolean;
  /** A PNN or "all" (refused otherwise: exit 2). */
  pnnOrAll?: boolean;
  description?: string;
}

export interface Output {
  /** The one JSON document of --json. */
  json: unknown;
  /** Human output, each line ending with a newline ('' prints nothing). */
  text: string;
  /** Exit status when not 0 though the command worked (nodestatus: the OR of the node flags). */
  exitCode?: number;
}

export interface Progress {
  /** Records handled so far; shown on a TTY only. */
  update(count: number): void;
  done(): void;
}

export interface CommandContext {
  client: CliClient;
  /** Per-request options: `pnn` set when -n addresses another node. */
  node: NodeOpts;
  json: boolean;
  /** -T SECONDS given explicitly, in ms: also the bound of a command's wait (recover, stop…). */
  waitMs: number | undefined;
  /** The environment of the command line ($CTDBNG_BASE: where this node's other daemons' sockets are). */
  env: NodeJS.ProcessEnv;
  /** Streams human output while a long command runs (catdb). */
  write(text: string): void;
  progress: Progress;
}

/**
 * 'node': a control that honours -n PNN|all; 'one': honours -n PNN, refuses -n all (a command that
 * changes one node and waits for the cluster: stop, ban…); 'local': always this node (record commands).
 */
export type CommandScope = 'node' | 'one' | 'local';

export interface CommandSpec {
  name: string;
  summary: string;
  args: readonly ArgSpec[];
  scope: CommandScope;
  run(ctx: CommandContext, args: readonly string[]): Promise<Output>;
}

/** An argument the command needs; commander has already checked it is there. */
export function arg(args: readonly string[], i: number): string {
  const v = args[i];
  if (v === undefined) throw new Error(`internal: argument ${i} missing`);
  return v;
}

/** A command failure that is not a client error (exit 1, one line). */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}
