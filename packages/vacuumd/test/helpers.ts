// Wiring of a vacuumd core on the fake dbd, virtual time and a state file. Not a test file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { silentLogger } from '@ctdbng/common';
import { StateFile, VacuumCore, type PassReport, type VacuumSettings } from '../src/index.js';
import { FakeClock, FakeDbd } from './fake-dbd.js';

export const settingsDefault: VacuumSettings = {
  pnn: 0,
  batchSizeCount: 1000,
  fullScanIntervalMs: 60_000,
  retryDelayMsMin: 100,
  retryDelayMsMax: 10_000,
};

export interface Rig {
  dbd: FakeDbd;
  clock: FakeClock;
  state: StateFile;
  core: VacuumCore;
  reports: PassReport[];
}

export function tempStatePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vacuumd-test-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'vacuumd.sqlite');
}

export function rig(o: { settings?: Partial<VacuumSettings>; dbd?: FakeDbd; clock?: FakeClock; statePath?: string } = {}): Rig {
  const dbd = o.dbd ?? new FakeDbd();
  const clock = o.clock ?? new FakeClock();
  const state = new StateFile(o.statePath ?? ':memory:');
  onTestFinished(() => state.close());
  const reports: PassReport[] = [];
  const settings = { ...settingsDefault, ...o.settings };
  const core = new VacuumCore({
    dbd,
    state,
    clock,
    log: silentLogger(),
    settings: () => settings,
    onReport: (r) => reports.push(r),
    onFatal: (err) => {
      throw err;
    },
  });
  return { dbd, clock, state, core, reports };
}
