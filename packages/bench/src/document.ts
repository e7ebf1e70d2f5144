// The `--json` document: one run's rows (rows.ts), with the date, the command, the machine; and the
// README section made from it (scripts/readme-table.mjs).
import { cpus, loadavg, totalmem } from 'node:os';
import type { BenchResult } from './report.js';
import { buildRows, markdownTable, type Row } from './rows.js';

export interface BenchDocument {
  tool: 'ctdbng-bench';
  /** ISO date of the end of the run. */
  date: string;
  /** The command line of the run, as a user types it. */
  command: string;
  node: string;
  host: { cpus: number; cpuModel: string; memGiB: number; loadavg1: number };
  quick: boolean;
  elapsedSec: number | null;
  rows: Row[];
  /** Every benchmark's own result (figures, notes, reproducing command), CTDB's included. */
  results: BenchResult[];
}

export function hostInfo(): BenchDocument['host'] {
  const c = cpus();
  return { cpus: c.length, cpuModel: c[0]?.model.trim() ?? '?', memGiB: Math.round(totalmem() / 2 ** 30), loadavg1: Math.round(loadavg()[0]! * 100) / 100 };
}

export function benchDocument(results: BenchResult[], o: { command: string; quick: boolean; elapsedSec?: number; date?: Date }): BenchDocument {
  return {
    tool: 'ctdbng-bench',
    date: (o.date ?? new Date()).toISOString(),
    command: o.command,
    node: process.version,
    host: hostInfo(),
    quick: o.quick,
    elapsedSec: o.elapsedSec ?? null,
    rows: buildRows(results, { quick: o.quick }),
    results,
  };
}

export const readmeBegin = '<!-- bench:begin -->';
export const readmeEnd = '<!-- bench:end -->';

/** The README's benchmark section of one run: when, how, where, and the table of its headline rows. */
export function readmeSection(doc: Pick<BenchDocument, 'date' | 'command' | 'node' | 'host' | 'quick' | 'elapsedSec' | 'rows'>): string {
  const day = doc.date.slice(0, 10);
  const took = doc.elapsedSec === null ? '' : doc.elapsedSec < 120 ? `, ${Math.round(doc.elapsedSec)} s` : `, ${Math.round(doc.elapsedSec / 60)} minutes`;
  const lines = [
    `Measured ${day} with \`${doc.command}\`${took}, Node ${doc.node}, on ${doc.host.cpus} × ${doc.host.cpuModel}, ${doc.host.memGiB} GiB`
      + ` (load average ${doc.host.loadavg1} at the end). Generated from that run's \`--json\` by \`node packages/bench/scripts/readme-table.mjs\`.`,
  ];
  if (doc.quick) lines.push('', '**A `--quick` run: small counts, a smoke test, not figures. Targets are not judged.**');
  lines.push(
    '',
    'The floor is measured in the same run (`ctdbng-bench floors`: bare better-sqlite3, bare zeromq.js, bare `node`, a bare prototype of a migration\'s hops).',
    'CTDB 4.17 is measured in the same run on `../shared/peer-ctdb`, the same way as ctdb-ng (CLI against CLI);',
    'a "constant, not this run" is a reference figure of FIGURES.md / FLOOR.md from another day and is never divided.',
    '',
    markdownTable(doc.rows).trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** `text` with everything between the markers replaced by `section` (markers kept). */
export function replaceBetweenMarkers(text: string, section: string, begin = readmeBegin, end = readmeEnd): string {
  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  if (b < 0 || e < 0) throw new Error(`markers ${begin} … ${end} not found`);
  if (e < b) throw new Error(`${end} comes before ${begin}`);
  if (text.indexOf(begin, b + begin.length) >= 0 || text.indexOf(end, e + end.length) >= 0) throw new Error('markers appear more than once');
  return `${text.slice(0, b + begin.length)}\n${section}${text.slice(e)}`;
}
