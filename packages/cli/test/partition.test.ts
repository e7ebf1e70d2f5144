// `ctdbng-cluster partition PNN` / `heal` write the fault switch files the daemons read
// (packages/common/src/faults.ts): the cut holds both ways, and heal keeps other switches.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { noFaults, parseFaults } from '@ctdbng/common';
import { fault, heal, partition } from '../src/cluster/cluster.js';
import { PartitionError } from '../src/cluster/partition.js';

const bases: string[] = [];
afterEach(() => {
  for (const b of bases.splice(0)) rmSync(b, { recursive: true, force: true });
});

function clusterDirs(nodes: number): string {
  const base = mkdtempSync(join(tmpdir(), 'ctdbng-cli-partition-'));
  bases.push(base);
  for (let p = 0; p < nodes; p++) mkdirSync(join(base, `node.${p}`, 'run'), { recursive: true });
  return base;
}

const faultsOf = (base: string, p: number) => join(base, `node.${p}`, 'run', 'faults.json');
const blocked = (base: string, p: number) => [...parseFaults(readFileSync(faultsOf(base, p), 'utf8')).blockedPeers];

test('partition PNN blocks every other node on PNN and PNN on every other node', () => {
  const base = clusterDirs(3);
  partition(base, 1);
  expect([blocked(base, 0), blocked(base, 1), blocked(base, 2)]).toEqual([[1], [0, 2], [1]]);
  // Written by rename: no temporary file left behind.
  expect(readdirSync(join(base, 'node.1', 'run'))).toEqual(['faults.json']);
});

test('heal removes the cut, and a file with nothing else switched on', () => {
  const base = clusterDirs(3);
  writeFileSync(faultsOf(base, 2), '{"failRecovery":true}\n');
  partition(base, 0);
  expect(parseFaults(readFileSync(faultsOf(base, 2), 'utf8'))).toEqual({ ...noFaults, blockedPeers: new Set([0]), failRecovery: true });
  heal(base);
  expect([existsSync(faultsOf(base, 0)), existsSync(faultsOf(base, 1))]).toEqual([false, false]);
  expect(parseFaults(readFileSync(faultsOf(base, 2), 'utf8'))).toEqual({ ...noFaults, blockedPeers: new Set(), failRecovery: true });
});

test('fault sets a failing recovery step, a one-way cut and a vacuumd pause on one node; --clear keeps only the partition', () => {
  const base = clusterDirs(3);
  partition(base, 2);
  fault(base, 2, { failStep: 'installGeneration', oneWayOut: [0, 1] });
  fault(base, 2, { pauseAfter: 'storeTombstone' });
  expect(parseFaults(readFileSync(faultsOf(base, 2), 'utf8'))).toEqual({
    ...noFaults, blockedPeers: new Set([0, 1]), failStep: 'installGeneration', dropTo: new Set([0, 1]), pauseAfter: 'storeTombstone',
  });
  fault(base, 2, { clear: true });
  expect(parseFaults(readFileSync(faultsOf(base, 2), 'utf8'))).toEqual({ ...noFaults, blockedPeers: new Set([0, 1]) });
  heal(base);
  expect(existsSync(faultsOf(base, 2))).toBe(false);
  expect(() => fault(base, 2, { failStep: 'frobnicate' })).toThrow(/expected one of freeze/);
  expect(() => fault(base, 2, { oneWayOut: [2] })).toThrow(PartitionError);
});

test('partition of a node the cluster does not have is refused', () => {
  const base = clusterDirs(2);
  expect(() => partition(base, 5)).toThrow(PartitionError);
});
