// The nodes file (DESIGN §1): PNN = line number among node lines; '#' alone keeps a deleted number.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { countedNodes, NodesFileError, nodesMajority, parseNodesFile, readNodesFile } from '@ctdbng/common';

describe('parseNodesFile', () => {
  test('PNNs count node lines only, skipping blank lines and comments', () => {
    const file = parseNodesFile('# the cluster\n\n10.0.0.1\n  10.0.0.2  # rack 2\n\n# spare\nfd00::3\n');
    expect(file.nodes).toEqual([
      { pnn: 0, address: '10.0.0.1', deleted: false, witness: false },
      { pnn: 1, address: '10.0.0.2', deleted: false, witness: false },
      { pnn: 2, address: 'fd00::3', deleted: false, witness: false },
    ]);
  });

  test("a line of only '#' is a deleted node that keeps its number", () => {
    const file = parseNodesFile('10.0.0.1\n#\n10.0.0.3\n');
    expect(file.nodes[1]).toEqual({ pnn: 1, address: '', deleted: true, witness: false });
    expect(file.nodes[2]).toEqual({ pnn: 2, address: '10.0.0.3', deleted: false, witness: false });
  });

  test('a line that is not an IP address is an error naming the line', () => {
    expect(() => parseNodesFile('10.0.0.1\nnode-b\n')).toThrow(NodesFileError);
    expect(() => parseNodesFile('10.0.0.1\nnode-b\n')).toThrow(/line 2: 'node-b' is not an IP address/);
  });

  test('a duplicate address is an error naming the line', () => {
    expect(() => parseNodesFile('10.0.0.1\n10.0.0.2\n10.0.0.1\n')).toThrow(/line 3: duplicate address 10\.0\.0\.1/);
  });

  test('a file without a node is an error', () => {
    expect(() => parseNodesFile('# nothing\n\n')).toThrow(/lists no node/);
  });

  test('the hash changes when a node is deleted and ignores comments and blank lines', () => {
    const a = parseNodesFile('10.0.0.1\n10.0.0.2\n');
    expect(parseNodesFile('# c\n10.0.0.1\n\n10.0.0.2 # x\n').hash).toBe(a.hash);
    expect(parseNodesFile('10.0.0.1\n#\n').hash).not.toBe(a.hash);
  });

  test("an address followed by 'witness' is a witness; its hash differs from the same file without it", () => {
    const file = parseNodesFile('10.0.0.1\n10.0.0.2\n10.0.0.3 witness # a small third host\n');
    expect(file.nodes.map((n) => n.witness)).toEqual([false, false, true]);
    expect(file.nodes[2]!.address).toBe('10.0.0.3');
    expect(file.hash).not.toBe(parseNodesFile('10.0.0.1\n10.0.0.2\n10.0.0.3\n').hash);
    expect(countedNodes(file)).toEqual([0, 1, 2]);
    expect(nodesMajority(file)).toBe(2);
  });

  test('an unknown word after an address, or a file of witnesses only, is an error', () => {
    expect(() => parseNodesFile('10.0.0.1 lmaster\n')).toThrow(/line 1: unknown option 'lmaster'/);
    expect(() => parseNodesFile('10.0.0.1 witness\n')).toThrow(/no node that can hold records/);
  });

  test('the majority counts the non-deleted lines', () => {
    expect(nodesMajority(parseNodesFile('10.0.0.1\n#\n10.0.0.3\n'))).toBe(2);
    expect(nodesMajority(parseNodesFile('10.0.0.1\n10.0.0.2\n10.0.0.3\n10.0.0.4\n'))).toBe(3);
  });

  test('readNodesFile parses a file on disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctdbng-nodes-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'nodes'), '127.0.0.1\n127.0.0.2\n');
    expect(readNodesFile(join(dir, 'nodes')).nodes.map((n) => n.address)).toEqual(['127.0.0.1', '127.0.0.2']);
  });
});
