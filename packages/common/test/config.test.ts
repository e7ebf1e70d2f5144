// ctdbng.conf (DESIGN §9): INI with sections; a node finds its PNN by its address in the nodes file.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { ConfigError, loadNodeConfig, parseIni, renderNodeConf } from '@ctdbng/common';

function tempBase(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctdbng-conf-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('parseIni', () => {
  test('sections and names are lower-cased, values trimmed, comments and blank lines skipped', () => {
    const ini = parseIni('# top\n[Cluster]\n  Node Address = 10.0.0.1  \n; other comment\n\n[logging]\nlog level=debug\n');
    expect(ini.get('cluster')?.get('node address')).toBe('10.0.0.1');
    expect(ini.get('logging')?.get('log level')).toBe('debug');
  });

  test('a value keeps an = sign after the first', () => {
    expect(parseIni('[a]\nk = x=y\n').get('a')?.get('k')).toBe('x=y');
  });

  test('a line without = is a ConfigError naming the line', () => {
    expect(() => parseIni('[cluster]\nnode address\n')).toThrow(ConfigError);
    expect(() => parseIni('[cluster]\nnode address\n')).toThrow(/line 2/);
  });
});

describe('loadNodeConfig', () => {
  test('a node config rendered for a node loads back with its PNN, ports and tunables', () => {
    const base = tempBase();
    writeFileSync(join(base, 'nodes'), '127.0.0.1\n127.0.0.2\n');
    writeFileSync(join(base, 'ctdbng.tunables'), 'KeepaliveInterval=2\n');
    writeFileSync(join(base, 'ctdbng.conf'), renderNodeConf({
      nodeAddress: '127.0.0.2', nodePort: 5379, recoverdPort: 5380, metricsPort: 9500, logLevel: 'debug', logFile: join(base, 'log'),
    }));
    const conf = loadNodeConfig(base);
    expect(conf.pnn).toBe(1);
    expect([conf.nodePort, conf.recoverdPort, conf.metricsPortBase]).toEqual([5379, 5380, 9500]);
    expect(conf.logLevel).toBe('debug');
    expect(conf.logLocation).toBe(join(base, 'log'));
    expect(conf.clientSocket).toBe(join(base, 'run', 'dbd.sock'));
    expect(conf.tunables.keepaliveIntervalSeconds).toBe(2);
  });

  test('a node address missing from the nodes file is a ConfigError', () => {
    const base = tempBase();
    writeFileSync(join(base, 'nodes'), '127.0.0.1\n');
    writeFileSync(join(base, 'ctdbng.conf'), '[cluster]\nnode address = 127.0.0.9\n');
    expect(() => loadNodeConfig(base)).toThrow(/127\.0\.0\.9 is not in/);
  });

  test('a port that is not a port number is a ConfigError', () => {
    const base = tempBase();
    writeFileSync(join(base, 'nodes'), '127.0.0.1\n');
    writeFileSync(join(base, 'ctdbng.conf'), '[cluster]\nnode address = 127.0.0.1\nnode port = 70000\n');
    expect(() => loadNodeConfig(base)).toThrow(/node port = 70000: expected a port number/);
  });

  test('a base without ctdbng.conf is a ConfigError', () => {
    expect(() => loadNodeConfig(tempBase())).toThrow(/no ctdbng.conf/);
  });
});
