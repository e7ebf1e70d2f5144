// A tidy check of a daemon's core (TigerBeetle's tidy.zig, STYLE §2): the core is a state machine
// that gets time, timers, randomness and I/O only through its interfaces (DESIGN §12), so that
// test/sim can drive it with a seeded network and a virtual clock. This lists what it must not use.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const banned: readonly { pattern: RegExp; why: string }[] = [
  { pattern: /\basync\s/, why: 'async: a core never waits; it asks for a timer or a request and handles the answer' },
  { pattern: /\bawait\s/, why: 'await: a core never waits' },
  { pattern: /\bPromise\b/, why: 'Promise: requests are answered as reply events' },
  { pattern: /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/, why: 'real timers: use CoreTimers' },
  { pattern: /\bDate\.now\(|\bperformance\.now\(|\bprocess\.hrtime/, why: 'the host clock: use CoreClock' },
  { pattern: /\bMath\.random\(|\brandomInt\(|\brandomBytes\(/, why: 'randomness: use CoreRandom' },
  { pattern: /\bprocess\./, why: 'process: the shell owns it' },
  { pattern: /from ['"]zeromq['"]/, why: 'zeromq: the shell owns the sockets' },
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Every `file:line: what (why)` in the .ts files under `dir` that uses what a core must not; comments are skipped. */
export function coreViolations(dir: string): string[] {
  const out: string[] = [];
  for (const file of files(dir)) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
      for (const b of banned) if (b.pattern.test(code)) out.push(`${file}:${i + 1}: ${line.trim()} (${b.why})`);
    });
  }
  return out;
}
