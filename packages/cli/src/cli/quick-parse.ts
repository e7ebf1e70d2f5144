// The quick parse of a plain `ctdbng` command line (DESIGN §10), without loading commander:
// global options each given once as separate words (`--json`, `-n PNN|all`, `--socket PATH`,
// `-T SECONDS`, or their long names), then a command of the table and its arguments, none of which
// starts with '-'. It yields what commander's parse (program.ts) yields for that line, or
// undefined for anything else — help, a usage error, `--node=1`, an option after the command —
// which commander then parses (and reports) as always. Loading commander and building the ~25
// commands took ~4 ms of each `ctdbng` start (packages/cli/README.md, "Start-up time").
import type { ArgSpec, CommandSpec } from '../commands/types.js';
import {
  integerOf, nodeTargetOf, pnnOrAllOf, positiveIntegerOf, secondsOf, timelimitSecondsDefault, type GlobalOptions,
} from './values.js';

export interface QuickParse {
  spec: CommandSpec;
  args: string[];
  globals: GlobalOptions;
}

type OptionName = 'json' | 'node' | 'socket' | 'timelimit';

const OPTION_WORDS: Readonly<Record<string, OptionName>> = {
  '--json': 'json',
  '-n': 'node',
  '--node': 'node',
  '--socket': 'socket',
  '-T': 'timelimit',
  '--timelimit': 'timelimit',
};

/** The value of one argument as commander's argument parsers make it; undefined if refused. */
function argValueOf(a: ArgSpec, v: string): string | undefined {
  // commander keeps the last parser set on an Argument; program.ts sets them in this order.
  if (a.pnnOrAll) return pnnOrAllOf(v);
  if (a.positiveInteger) return positiveIntegerOf(v);
  if (a.integer) return integerOf(v);
  if (a.choices !== undefined) return a.choices.includes(v) ? v : undefined;
  return v;
}

/** The global options before the command; undefined if one is unusual or its value refused. */
function globalsOf(argv: readonly string[]): { globals: GlobalOptions; next: number } | undefined {
  const globals: GlobalOptions = { json: false, node: undefined, socket: undefined, timeoutMs: timelimitSecondsDefault * 1000, timelimitExplicit: false };
  const seen = new Set<OptionName>();
  let i = 0;
  for (; i < argv.length && argv[i]!.startsWith('-'); i++) {
    const name = OPTION_WORDS[argv[i]!];
    if (name === undefined || seen.has(name)) return undefined;
    seen.add(name);
    if (name === 'json') {
      globals.json = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined || value.startsWith('-')) return undefined;
    if (name === 'socket') globals.socket = value;
    else if (name === 'node') {
      globals.node = nodeTargetOf(value);
      if (globals.node === undefined) return undefined;
    } else {
      const seconds = secondsOf(value);
      if (seconds === undefined) return undefined;
      globals.timeoutMs = Math.round(seconds * 1000);
      globals.timelimitExplicit = true;
    }
  }
  return { globals, next: i };
}

export function quickParse(argv: readonly string[], commands: readonly CommandSpec[]): QuickParse | undefined {
  const head = globalsOf(argv);
  if (head === undefined) return undefined;
  const spec = commands.find((c) => c.name === argv[head.next]);
  if (spec === undefined) return undefined;
  const words = argv.slice(head.next + 1);
  const required = spec.args.filter((a) => a.optional !== true).length;
  if (words.length < required || words.length > spec.args.length || words.some((w) => w.startsWith('-'))) return undefined;
  const args: string[] = [];
  for (const [i, a] of spec.args.entries()) {
    const word = words[i];
    const value = word === undefined ? '' : argValueOf(a, word);
    if (value === undefined) return undefined;
    args.push(value);
  }
  return { spec, args, globals: head.globals };
}
