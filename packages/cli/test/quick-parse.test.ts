// The quick parse of ctdbng (no commander) yields exactly what commander yields for every command
// line it accepts, and leaves everything else — help, usage errors, unusual spellings — to commander.
import { describe, expect, test } from 'vitest';
import { parseCommandLine } from '../src/cli/program.js';
import { quickParse } from '../src/cli/quick-parse.js';
import { COMMANDS } from '../src/commands/index.js';

const sink = { stdout: () => undefined, stderr: () => undefined };

const prefixes: string[][] = [
  [], ['--json'], ['-n', '1'], ['-n', 'all'], ['--node', '2'], ['-n', 'x'], ['-n', '-1'], ['-n', '4294967295'],
  ['--socket', '/tmp/s.sock'], ['-T', '0.5'], ['-T', '0'], ['--timelimit', '3'], ['-T', 'abc'],
  ['--json', '-n', '0', '-T', '2'], ['-n', '1', '-n', '2'], ['--node=1'], ['-n1'], ['-h'], ['--help'], ['-x'], ['--socket'],
];
const words = ['x.db', '1', '0x1f', '-1', 'all', 'persistent', '', '4294967296', '--json'];
const commandWords = [...COMMANDS.map((c) => c.name), 'help', 'nosuch', ''];

function argLists(): string[][] {
  const out: string[][] = [[]];
  for (const a of words) {
    out.push([a]);
    for (const b of words) out.push([a, b]);
  }
  out.push(['x.db', 'k', 'v'], ['x.db', 'k', 'v', 'extra'], ['x.db', '-k', 'v']);
  return out;
}

/** What commander makes of a line: its parse, or the exit it asks for (help, usage error). */
function viaCommander(argv: string[]) {
  return parseCommandLine(argv, COMMANDS, sink);
}

function expectSameAsCommander(argv: string[]): boolean {
  const quick = quickParse(argv, COMMANDS);
  if (quick === undefined) return false;
  expect(viaCommander(argv), argv.join(' ')).toEqual({ kind: 'run', ...quick });
  return true;
}

describe('quick parse', () => {
  test('every line it accepts parses as commander parses it, over a grid of options, commands and arguments', () => {
    let accepted = 0;
    for (const prefix of prefixes) {
      for (const command of commandWords) {
        for (const args of [[], ['x.db'], ['1'], ['all'], ['x.db', 'k'], ['x.db', 'k', 'v']]) {
          if (expectSameAsCommander([...prefix, command, ...args])) accepted++;
        }
      }
    }
    for (const command of commandWords) {
      for (const args of argLists()) if (expectSameAsCommander([command, ...args])) accepted++;
    }
    expect(accepted).toBeGreaterThan(400);
  });

  test('the lines scripts type take the quick path', () => {
    for (const argv of [
      ['pnn'], ['status'], ['--json', 'status'], ['-n', 'all', 'pnn'], ['-n', '1', 'uptime'], ['-T', '5', 'recover'],
      ['--socket', '/run/dbd.sock', 'ping'], ['attach', 'x.db', 'persistent'], ['readkey', 'x.db', 'k'],
      ['writekey', 'x.db', 'k', 'v'], ['setvar', 'VacuumInterval', '0x10'], ['ban', '30'], ['nodestatus', 'all'],
    ]) {
      expect(quickParse(argv, COMMANDS), argv.join(' ')).toBeDefined();
    }
  });

  test('help, usage errors and options after the command are left to commander', () => {
    for (const argv of [
      [], ['--help'], ['pnn', '--help'], ['help', 'pnn'], ['frobnicate'], ['readkey', 'x.db'], ['pnn', 'extra'],
      ['-n', 'x', 'pnn'], ['ban', '0'], ['setvar', 'X', 'y'], ['attach', 'x.db', 'sometimes'], ['pnn', '--json'],
      ['--node=1', 'pnn'], ['-T', '0', 'pnn'], ['--json', '--json', 'pnn'],
    ]) {
      expect(quickParse(argv, COMMANDS), argv.join(' ')).toBeUndefined();
    }
  });
});
