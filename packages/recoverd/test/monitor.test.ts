// When a recovery runs (DESIGN §5.2): the decision function on node states.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { connectedViews, decideRecovery, eligiblePnns, hasQuorum, newLeaderMemory, noteServed, type LeaderMemory } from '../src/core/monitor.js';
import type { NodeState } from '../src/core/io.js';
import { VoteFile, VoteFileError } from '../src/shell/vote-file.js';

function st(pnn: number, o: Partial<NodeState> = {}): NodeState {
  return {
    pnn, incarnation: 10 + pnn, generation: 7, vnnmap: [0, 1, 2], stopped: false, banned: false, banRemainingSeconds: 0, inactive: false, frozen: false,
    linksUp: [0, 1, 2].filter((p) => p !== pnn), recoveryRequests: 0, dbIds: [1], dbNames: ['a.db'], highestTerm: 1, leader: 0, hasLeader: true, lastRecoveryMs: 0,
    recoveryStartedUnixMs: 0, witness: false, amnesiac: false, quorum: true, frozenFor: 0, joined: true, ...o,
  };
}

function settled(views: Map<number, NodeState | undefined>): LeaderMemory {
  const m = newLeaderMemory();
  noteServed(m, views, { generation: 7, vnnmap: [0, 1, 2] });
  return m;
}

describe('monitor', () => {
  const healthy = (): Map<number, NodeState | undefined> => new Map([0, 1, 2].map((p) => [p, st(p)]));

  it('a new leader recovers; afterwards a cluster that agrees needs nothing', () => {
    expect(decideRecovery(healthy(), newLeaderMemory()).reasons).toContain('new leader');
    expect(decideRecovery(healthy(), settled(healthy())).reasons).toEqual([]);
  });

  it('eligible means answered, not stopped, not banned, not inactive, not a witness', () => {
    const v = healthy();
    v.set(0, undefined);
    v.set(1, st(1, { stopped: true }));
    v.set(2, st(2, { banned: true }));
    expect(eligiblePnns(v)).toEqual([]);
    v.set(2, st(2, { inactive: true }));
    expect(eligiblePnns(v)).toEqual([]);
    v.set(2, st(2, { witness: true }));
    expect(eligiblePnns(v)).toEqual([]);
    v.set(2, st(2));
    expect(eligiblePnns(v)).toEqual([2]);
  });

  it('a node whose dbd link with the leader\'s dbd is down either way is not connected', () => {
    const v = healthy();
    v.set(1, st(1, { linksUp: [2] })); // node 1 does not hear the leader (0)
    v.set(2, st(2));
    v.set(0, st(0, { linksUp: [1] })); // the leader does not hear node 2
    expect([...connectedViews(v, 0)].filter(([, s]) => s !== undefined).map(([p]) => p)).toEqual([0]);
  });

  it('a quorum is a majority of the nodes file without amnesiac nodes, or every node', () => {
    const n = (amnesiac = false) => ({ amnesiac });
    expect(hasQuorum([n(), n()], 3)).toBe(true);
    expect(hasQuorum([n()], 3)).toBe(false);
    expect(hasQuorum([n(), n(true)], 3)).toBe(false);
    expect(hasQuorum([n(), n(true), n(true)], 3)).toBe(true);
    expect(hasQuorum([n(), n()], 4)).toBe(false);
  });

  it.each([
    ['a node that does not answer', (v: Map<number, NodeState | undefined>) => v.set(2, undefined), /differ from the vnnmap/],
    ['a stopped node', (v: Map<number, NodeState | undefined>) => v.set(1, st(1, { stopped: true })), /differ from the vnnmap/],
    ['another generation', (v: Map<number, NodeState | undefined>) => v.set(1, st(1, { generation: 8 })), /generation 0\.8, not 0\.7/],
    ['a node not taken in (a restarted dbd)', (v: Map<number, NodeState | undefined>) => v.set(1, st(1, { joined: false })), /not taken in/],
    ['a stopped node that restarted (a witness not taken in)', (v: Map<number, NodeState | undefined>) => v.set(2, st(2, { stopped: true, vnnmap: [0, 1] })), /differ from the vnnmap/],
    ['another vnnmap', (v: Map<number, NodeState | undefined>) => v.set(1, st(1, { vnnmap: [0, 1] })), /another vnnmap/],
    ['a recovery request', (v: Map<number, NodeState | undefined>) => v.set(1, st(1, { recoveryRequests: 1 })), /asked for a recovery/],
    ['a db missing on one node', (v: Map<number, NodeState | undefined>) => v.set(2, st(2, { dbIds: [], dbNames: [] })), /a\.db is not attached on node 2/],
    ['a node frozen for a recovery', (v: Map<number, NodeState | undefined>) => v.set(0, st(0, { frozenFor: 9 })), /frozen for a recovery/],
  ])('%s needs a recovery', (_name, change, reason) => {
    const m = settled(healthy());
    const v = healthy();
    change(v);
    expect(decideRecovery(v, m).reasons.join('; ')).toMatch(reason);
  });

  it('a restarted dbd (new incarnation, counter from 0) is not mistaken for a served request', () => {
    const m = settled(new Map([0, 1, 2].map((p) => [p, st(p, { recoveryRequests: 5 })])));
    const v = healthy();
    v.set(1, st(1, { incarnation: 99, recoveryRequests: 6 }));
    expect(decideRecovery(v, m).reasons).toEqual([]);
  });
});

describe('vote file', () => {
  it('keeps (term, votedFor) across instances and refuses a corrupt file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'recoverd-votes-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'run', 'recoverd.state');
    expect(new VoteFile(path).load()).toEqual({ term: 0, votedFor: undefined });
    new VoteFile(path).save({ term: 4, votedFor: 2 });
    expect(new VoteFile(path).load()).toEqual({ term: 4, votedFor: 2 });
    new VoteFile(path).save({ term: 5, votedFor: undefined });
    expect(new VoteFile(path).load()).toEqual({ term: 5, votedFor: undefined });
    writeFileSync(path, '{"term":');
    expect(() => new VoteFile(path).load()).toThrow(VoteFileError);
  });
});
