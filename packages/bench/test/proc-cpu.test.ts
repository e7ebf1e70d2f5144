// CPU time of process trees from /proc: the stat line is read past the command name.
import { describe, expect, it } from 'vitest';
import { parseStatTicks, processTree } from '@ctdbng/bench';

describe('parseStatTicks', () => {
  it('adds utime and stime (fields 14 and 15), whatever the command name holds', () => {
    const fields = ['S', '1', '2', '3', '0', '-1', '4194560', '10', '0', '0', '0', '250', '40', '0', '0', '20', '0', '1'];
    expect(parseStatTicks(`123 (node) ${fields.join(' ')}`)).toBe(290);
    expect(parseStatTicks(`123 (a) b (c)) ${fields.join(' ')}`)).toBe(290);
  });
});

describe('processTree', () => {
  it('holds the process itself', () => {
    expect(processTree(process.pid)[0]).toBe(process.pid);
  });
  it('a pid that does not exist is only itself', () => {
    expect(processTree(2 ** 22 + 12345)).toEqual([2 ** 22 + 12345]);
  });
});
