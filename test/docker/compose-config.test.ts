// docker/compose.yaml is a valid compose file that runs 3 nodes with one service per daemon
// (each with its own restart policy and health check, the three of a node sharing its network
// namespace and volume) plus etcd for the cluster lock (DESIGN §11). No Docker engine runs here,
// so Debian's docker-compose validates and normalises it, and the test reads the result.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { debianPython, haveTools, systemTools } from '../helpers/system-tools.js';

const repo = resolve(import.meta.dirname, '../..');

interface Service {
  command?: string[];
  restart?: string;
  healthcheck?: { test?: string[] };
  network_mode?: string;
  networks?: Record<string, { ipv4_address?: string }>;
  volumes?: (string | { source?: string; target?: string })[];
  environment?: Record<string, string>;
}

function composeConfig(): { services: Record<string, Service> } {
  const yaml = execFileSync('docker-compose', ['-f', 'docker/compose.yaml', 'config'], { cwd: repo, encoding: 'utf8' });
  // docker-compose 1.29 prints YAML only; Debian's python3-yaml (its dependency) turns it into JSON.
  const json = execFileSync(debianPython, ['-c', 'import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: yaml, encoding: 'utf8' });
  return JSON.parse(json) as { services: Record<string, Service> };
}

describe.skipIf(!haveTools('test/docker', [systemTools.dockerCompose, systemTools.pythonYaml]))('docker/compose.yaml', () => {
test('the compose file validates and runs nine daemon services and etcd', () => {
  const { services } = composeConfig();
  expect(Object.keys(services).sort()).toEqual(
    ['etcd', ...[0, 1, 2].flatMap((p) => ['dbd', 'recoverd', 'vacuumd'].map((d) => `node${p}-${d}`))].sort(),
  );
  for (const p of [0, 1, 2]) {
    const dbd = services[`node${p}-dbd`]!;
    const address = Object.values(dbd.networks ?? {})[0]?.ipv4_address;
    expect(address).toBe(`172.30.0.${11 + p}`);
    for (const d of ['dbd', 'recoverd', 'vacuumd']) {
      const s = services[`node${p}-${d}`]!;
      expect(s.command).toEqual([d]);
      expect(s.restart).toBe('unless-stopped');
      expect(s.healthcheck?.test?.length).toBeGreaterThan(1);
      expect(s.environment?.['NODE_ADDRESS']).toBe(address);
      expect(s.environment?.['CLUSTER_LOCK']).toMatch(/^etcd:\/\//);
      const vol = s.volumes?.[0];
      expect(typeof vol === 'string' ? vol : `${vol?.source}:${vol?.target}`).toMatch(new RegExp(`node${p}:/var/lib/ctdbng`));
      if (d !== 'dbd') expect(s.network_mode).toBe(`service:node${p}-dbd`);
    }
  }
});
});
