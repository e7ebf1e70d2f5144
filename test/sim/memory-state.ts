// What a daemon keeps on disk, kept in memory across the simulated restarts of its daemon:
// dbd's node state file (DESIGN §5.4) and recoverd's vote file (§5.1).
import type { NodeStateRecord, NodeStateStore } from '@ctdbng/dbd';

export class MemoryNodeState implements NodeStateStore {
  state: NodeStateRecord = { installedGeneration: 0, highestTerm: 0, frozenFor: 0, amnesiac: false };
  load(): NodeStateRecord {
    return { ...this.state };
  }
  save(s: NodeStateRecord): void {
    this.state = { ...s };
  }
}

export interface Vote {
  term: number;
  votedFor: number | undefined;
}

export class MemoryVotes {
  v: Vote = { term: 0, votedFor: undefined };
  load(): Vote {
    return { ...this.v };
  }
  save(v: Vote): void {
    this.v = { ...v };
  }
}
