import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { loadNodeConfig, parseNodesFile } from '@ctdbng/common';
import { daemonBinPath, DAEMONS } from '../src/cluster/daemons.js';
import { clusterBase, nodeDir, nodesFileText, parseTunablesSpec, portsFor, tunablesFileText, writeNodeFiles } from '../src/cluster/layout.js';
import { vnnmapMatches } from '../src/cluster/readiness.js';
import { memberPnns, staticGeneration } from '../src/cluster/static-vnnmap.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('cluster layout', () => {
  test('default ports are 4379, 4380 and 9379; --port-base P shifts them to P, P+1, P+2', () => {
    expect(portsFor()).toEqual({ nodePort: 4379, recoverdPort: 4380, metricsPort: 9379 });
    expect(portsFor(5000)).toEqual({ nodePort: 5000, recoverdPort: 5001, metricsPort: 5002 });
  });

  test('the base is --base, else $CTDBNG_CLUSTER_BASE, else /tmp/ctdbng-cluster', () => {
    expect(clusterBase('/x', { CTDBNG_CLUSTER_BASE: '/y' })).toBe('/x');
    expect(clusterBase(undefined, { CTDBNG_CLUSTER_BASE: '/y' })).toBe('/y');
    expect(clusterBase(undefined, {})).toBe('/tmp/ctdbng-cluster');
  });

  test('the nodes file lists 127.0.0.1..N', () => {
    expect(nodesFileText(3)).toBe('127.0.0.1\n127.0.0.2\n127.0.0.3\n');
  });

  test('CTDBNG_CLUSTER_TUNABLES "Name=v Name=v" becomes ctdbng.tunables lines', () => {
    const t = parseTunablesSpec('KeepaliveInterval=1  ControlTimeout=500');
    expect(t).toEqual({ KeepaliveInterval: 1, ControlTimeout: 500 });
    expect(tunablesFileText(t)).toBe('KeepaliveInterval=1\nControlTimeout=500\n');
    expect(() => parseTunablesSpec('Keepalive=x')).toThrow(/Name=integer/);
  });

  test('a written node dir loads as that node with the cluster ports and its own log file', () => {
    const base = mkdtempSync(join(tmpdir(), 'ctdbng-cli-layout-'));
    dirs.push(base);
    const dir = writeNodeFiles({ base, pnn: 1, nodes: 3, ports: portsFor(6000), logLevel: 'debug', tunablesText: 'KeepaliveInterval=2\n' });
    expect(dir).toBe(nodeDir(base, 1));
    const conf = loadNodeConfig(dir);
    expect(conf.pnn).toBe(1);
    expect(conf.nodeAddress).toBe('127.0.0.2');
    expect([conf.nodePort, conf.recoverdPort, conf.metricsPortBase]).toEqual([6000, 6001, 6002]);
    // stderr, which the supervisor sends to log/<daemon>.log.
    expect(conf.logLocation).toBe('stderr');
    expect(conf.tunables.keepaliveIntervalSeconds).toBe(2);
    expect(readFileSync(join(dir, 'nodes'), 'utf8')).toBe(nodesFileText(3));
  });
});

describe('static vnnmap', () => {
  test('the generation is nonzero and the same for every node of one nodes file', () => {
    const a = parseNodesFile(nodesFileText(3));
    const b = parseNodesFile(nodesFileText(3));
    expect(staticGeneration(a.hash)).toBe(staticGeneration(b.hash));
    expect(staticGeneration(a.hash)).not.toBe(0);
    expect(staticGeneration(a.hash)).not.toBe(staticGeneration(parseNodesFile(nodesFileText(4)).hash));
  });

  test('members are the PNNs of lines that are not deleted', () => {
    expect(memberPnns(parseNodesFile('127.0.0.1\n#\n127.0.0.3\n'))).toEqual([0, 2]);
  });

  test('a vnnmap matches only with the same generation and the same PNNs in order', () => {
    const want = { generation: 9, pnns: [0, 1, 2] };
    expect(vnnmapMatches({ generation: 9, pnns: [0, 1, 2] }, want)).toBe(true);
    expect(vnnmapMatches({ generation: 8, pnns: [0, 1, 2] }, want)).toBe(false);
    expect(vnnmapMatches({ generation: 9, pnns: [0, 1] }, want)).toBe(false);
  });
});

describe('daemon table', () => {
  test("the dbd bin is found through the workspace's node_modules and package.json bin", () => {
    const dbd = DAEMONS.find((d) => d.name === 'dbd')!;
    expect(daemonBinPath(dbd)).toMatch(/node_modules\/@ctdbng\/dbd\/dist\/shell\/main\.js$/);
  });
});
