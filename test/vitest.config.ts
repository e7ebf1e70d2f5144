// The one vitest config. It lives in test/ because the repository root holds only package.json,
// tsconfig.json, README.md and directories. `npm test` (test/run.mjs) runs it in two vitest
// processes at once: unit then integration in the foreground, and sim beside them at nice 19;
// `npx vitest run --config test/vitest.config.ts` runs the three projects one after the other
// (sequence.groupOrder).
// Three projects (STYLE §3); unit and sim use two workers (vitest's default is one fewer than the
// cores: 1 on this project's 2-core machine kind):
//   unit         packages/*/test/**/*.test.ts — one behaviour each, files run in parallel;
//   sim          test/sim/**/*.test.ts — the deterministic simulation: no process, no port, no
//                clock, so its files run in parallel on every core;
//   integration  test/**/*.test.ts but the simulation — multi-process scenarios, one file at a
//                time (they start daemons and bind ports), with long timeouts.
// Tests import @ctdbng/* through the workspace links in node_modules, i.e. the built dist/ of each
// package: `npm test` builds first (pretest). Run one project: npm test -- --project unit.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export default defineConfig({
  test: {
    root: repoRoot,
    projects: [
      {
        test: {
          name: 'unit',
          root: repoRoot,
          include: ['packages/*/test/**/*.test.ts'],
          environment: 'node',
          testTimeout: 10_000,
          maxWorkers: 2,
          // Units first, then the integration files alone: their daemons get both cores.
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'sim',
          root: repoRoot,
          include: ['test/sim/**/*.test.ts'],
          environment: 'node',
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          // npm test runs this project beside the integration files at the lowest priority
          // (test/run.mjs): a chunk that needs 2 s of CPU may wait for a core meanwhile.
          testTimeout: 600_000,
        },
      },
      {
        test: {
          name: 'integration',
          root: repoRoot,
          include: ['test/**/*.test.ts'],
          exclude: ['test/sim/**'],
          environment: 'node',
          // No passWithNoTests: while test/ holds no test file, the unit project's files keep
          // `npm test` green (vitest fails only when the whole run finds no file).
          fileParallelism: false,
          sequence: { groupOrder: 2 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
