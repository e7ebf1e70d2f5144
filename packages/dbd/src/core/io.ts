// What the dbd core needs from the world (DESIGN §12): sending, timers, the clock, pid checks and
// db files. The shell implements it with ZeroMQ and real timers; tests with an in-memory wiring.
import type { EnvelopeInit, ctdbng } from '@ctdbng/protocol';
import type { DbFile, DbIdentity } from '@ctdbng/store';
import type { CoreClock, CoreRandom, CoreTimers, NodesFile, TunableValues, Logger } from '@ctdbng/common';

/**
 * What a node remembers across dbd restarts (DESIGN §5.4): the generation it installed, the
 * highest leader term it has seen, the generation a recovery froze it for, and whether its
 * state file was lost while its db directory was not.
 */
export interface NodeStateRecord {
  installedGeneration: number;
  highestTerm: number;
  frozenFor: number;
  amnesiac: boolean;
}

export interface NodeStateStore {
  load(): NodeStateRecord;
  /** Durable when it returns (written, fsynced, renamed into place). */
  save(state: NodeStateRecord): void;
}

/** The core contract of packages/common (core-io.ts): timers, the clock and randomness come from here. */
export interface CoreIo extends CoreTimers {
  /** Queues a reply or push to a client of this node. */
  sendToClient(clientId: string, env: EnvelopeInit): void;
  /** Queues a message to another node's dbd over this node's link to it. */
  sendToNode(pnn: number, env: EnvelopeInit): void;
  /** Host CLOCK_MONOTONIC (shared with shared-access clients, §2.2); virtual in a simulation. */
  clock: CoreClock;
  /** Incarnations, lock tokens: seeded in a simulation. */
  random: CoreRandom;
  /** Wall-clock milliseconds since the epoch: only for reports to people (uptime), never for logic. */
  wallMs(): number;
  /** True unless the pid is known dead on this host. */
  isPidAlive(pid: number): boolean;
  /** Opens (creating) the file of a db on this node. */
  openDb(identity: DbIdentity): DbFile;
  /** Publishes an event on the events socket (link changes, freeze/thaw, recovery wanted). */
  publish(event: ctdbng.v1.DbdEvent.$Properties): void;
  /** The node state file. */
  nodeState: NodeStateStore;
}

export interface CoreConfig {
  pnn: number;
  nodes: NodesFile;
  host: string;
  tunables: TunableValues;
  log: Logger;
}
