// Command-line parsing of `ctdbng` (DESIGN §10) with commander: global options, one subcommand
// per row of the command table. Parsing only: running is run.ts's job.
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { ArgSpec, CommandSpec } from '../commands/types.js';
import {
  exitUsage, integerOf, integerRefusal, nodeTargetOf, nodeTargetRefusal, pnnOrAllOf, positiveIntegerOf, positiveIntegerRefusal,
  secondsOf, secondsRefusal, timelimitSecondsDefault, type GlobalOptions, type NodeTarget,
} from './values.js';

export type { GlobalOptions, NodeTarget } from './values.js';
export { exitUsage } from './values.js';

export type ParseResult =
  | { kind: 'run'; spec: CommandSpec; args: string[]; globals: GlobalOptions }
  /** Help or version was printed, or a usage error: exit with this code. */
  | { kind: 'exit'; code: number };

/** A commander argument parser of a check of values.ts: its refusal is commander's usage error. */
function refusing<T>(check: (v: string) => T | undefined, refusal: string): (v: string) => T {
  return (v) => {
    const value = check(v);
    if (value === undefined) throw new InvalidArgumentError(refusal);
    return value;
  };
}

export const parseNodeTarget = refusing(nodeTargetOf, nodeTargetRefusal);
const parseSeconds = refusing(secondsOf, secondsRefusal);
const parseInteger = refusing(integerOf, integerRefusal);
const parsePositiveInteger = refusing(positiveIntegerOf, positiveIntegerRefusal);
const parsePnnOrAll = refusing(pnnOrAllOf, nodeTargetRefusal);

function argumentOf(a: ArgSpec): Argument {
  const arg = new Argument(a.optional ? `[${a.name}]` : `<${a.name}>`, a.description ?? '');
  if (a.choices !== undefined) arg.choices(a.choices);
  if (a.integer) arg.argParser(parseInteger);
  if (a.positiveInteger) arg.argParser(parsePositiveInteger);
  if (a.pnnOrAll) arg.argParser(parsePnnOrAll);
  return arg;
}

/** commander's error text as one line: "unknown command 'x' (Did you mean y?)". */
export function oneLine(text: string): string {
  return text.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
}

export interface ProgramIo {
  stdout(s: string): void;
  stderr(s: string): void;
}

/** Where commander writes errors: held back until parse ends, so a bare `ctdbng` prints one line, not the help. */
interface HeldErr extends ProgramIo {
  held: string;
}

function baseProgram(io: HeldErr): Command {
  return new Command('ctdbng')
    .description('Control and inspect a ctdb-ng node (the dbd of $CTDBNG_BASE).')
    .option('--json', 'print one JSON document', false)
    .addOption(new Option('-n, --node <pnn|all>', 'address node PNN, or every node, through the local dbd').argParser(parseNodeTarget))
    .option('--socket <path>', "dbd's client socket (default $CTDBNG_BASE/run/dbd.sock)")
    .option('-T, --timelimit <seconds>', 'how long each request may take', parseSeconds, timelimitSecondsDefault)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => void (io.held += s),
      outputError: (s, write) => write(`ctdbng: ${oneLine(s)}\n`),
    });
}

export function parseCommandLine(argv: readonly string[], commands: readonly CommandSpec[], io: ProgramIo): ParseResult {
  const errIo: HeldErr = { stdout: (t) => io.stdout(t), stderr: (t) => io.stderr(t), held: '' };
  const program = baseProgram(errIo);
  let selected: { spec: CommandSpec; args: string[] } | undefined;
  for (const spec of commands) {
    const sub = program.command(spec.name).description(spec.summary);
    for (const a of spec.args) sub.addArgument(argumentOf(a));
    sub.action(() => {
      selected = { spec, args: sub.processedArgs.map((v: unknown) => (v === undefined ? '' : String(v))) };
    });
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    const printedOnly = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
    // 'commander.help' is commander showing the help for a missing command.
    io.stderr(err.code === 'commander.help' ? 'ctdbng: missing command (see ctdbng --help)\n' : errIo.held);
    return { kind: 'exit', code: printedOnly ? 0 : exitUsage };
  }
  if (selected === undefined) return { kind: 'exit', code: exitUsage };
  const o = program.opts<{ json: boolean; node?: NodeTarget; socket?: string; timelimit: number }>();
  const timelimitExplicit = program.getOptionValueSource('timelimit') === 'cli';
  const globals = { json: o.json, node: o.node, socket: o.socket, timeoutMs: Math.round(o.timelimit * 1000), timelimitExplicit };
  return { kind: 'run', ...selected, globals };
}
