import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { loadNodeConfig, parseNodesFile } from '@ctdbng/common';
import { daemonBinPath, DAEMONS } from '../src/cluster/daemons.js';
import { clusterBase, nodeDir, nodesFileText, parseTunablesSpec, portsFor, tunablesFileText, withClusterLock, writeNodeFiles } from '../src/cluster/layout.js';
import { memberPnns } from '../src/cluster/cluster.js';
import { notRecoveredReason } from '../src/cluster/readiness.js';

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
    expect(readFileSync(join(dir, 'ctdbng.conf'), 'utf8')).not.toMatch(/cluster lock/);
  });

  test('--cluster-lock SPEC is written as `cluster lock = SPEC` in the [cluster] section of every node', () => {
    const base = mkdtempSync(join(tmpdir(), 'ctdbng-cli-layout-'));
    dirs.push(base);
    for (const spec of ['/shared/ctdbng.lock', 'etcd://127.0.0.1:2379/ctdbng/lock', '!/usr/bin/mutex-helper --x']) {
      const dir = writeNodeFiles({ base, pnn: 0, nodes: 2, ports: portsFor(), logLevel: 'info', tunablesText: '', clusterLock: spec });
      const conf = readFileSync(join(dir, 'ctdbng.conf'), 'utf8');
      const cluster = conf.split(/\n\[/)[0]!;
      expect(cluster.split('\n')).toContain(`cluster lock = ${spec}`);
      expect(loadNodeConfig(dir).pnn).toBe(0);
    }
    expect(() => withClusterLock('[cluster]\n', 'a\nb')).toThrow(/one non-empty line/);
    expect(() => withClusterLock('[cluster]\n', ' ')).toThrow(/one non-empty line/);
  });
});

describe('readiness', () => {
  const ready = {
    pnn: 1, incarnation: 7, generation: 9, vnnmap: [2, 0, 1], stopped: false, banned: false, banRemainingSeconds: 0,
    inactive: false, frozen: false, linksUp: [0, 2], recoveryRequests: 0, dbIds: [], dbNames: [], highestTerm: 3,
    leader: 0, lastRecoveryMs: 12, recoveryStartedUnixMs: 0,
  };

  test('members are the PNNs of lines that are not deleted', () => {
    expect(memberPnns(parseNodesFile('127.0.0.1\n#\n127.0.0.3\n'))).toEqual([0, 2]);
  });

  test('a node is ready once a recovery gave it a generation, every member, a leader and its links', () => {
    expect(notRecoveredReason(ready, 1, [0, 1, 2])).toBeUndefined();
    expect(notRecoveredReason({ ...ready, generation: 0 }, 1, [0, 1, 2])).toMatch(/no generation/);
    expect(notRecoveredReason({ ...ready, frozen: true }, 1, [0, 1, 2])).toMatch(/frozen/);
    expect(notRecoveredReason({ ...ready, leader: null }, 1, [0, 1, 2])).toMatch(/no leader/);
    expect(notRecoveredReason({ ...ready, inactive: true }, 1, [0, 1, 2])).toMatch(/not active/);
    expect(notRecoveredReason({ ...ready, vnnmap: [0, 1] }, 1, [0, 1, 2])).toMatch(/not every node/);
    expect(notRecoveredReason({ ...ready, linksUp: [0] }, 1, [0, 1, 2])).toBe('no link to node(s) 2');
  });
});

describe('daemon table', () => {
  test('every node runs dbd, recoverd and vacuumd', () => {
    expect(DAEMONS.map((d) => d.name)).toEqual(['dbd', 'recoverd', 'vacuumd']);
  });

  test("each daemon's bin is found through the workspace's node_modules and package.json bin", () => {
    for (const d of DAEMONS) expect(daemonBinPath(d)).toMatch(new RegExp(`node_modules/@ctdbng/${d.name}/bin/ctdbng-${d.name}\\.js$`));
  });
});
