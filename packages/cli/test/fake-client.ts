// A fake dbd seen through the client API, seeded from a small description (STYLE §3: the CLI
// against a fake dbd). Records are per db; `local` traverses also return tombstones.
import type { CliClient, CliDb, DbMapEntry, NodeOpts, NodeStateView, TraversedRecord } from '../src/client-types.js';
import type { CtdbngIo } from '../src/cli/run.js';

export interface FakeSeed {
  pnn?: number;
  nodes?: { pnn: number; address: string; flags: string[] }[];
  generation?: number;
  vnnmap?: number[];
  dbs?: (DbMapEntry & { records?: TraversedRecord[] })[];
  tunables?: Record<string, number>;
  /** Nodes whose controls fail with this error (for -n). */
  failingPnns?: number[];
  leader?: number | null;
  /** Per node, what its GetNodeState differs in from the default (generation, vnnmap, leader of the seed). */
  states?: Record<number, Partial<NodeStateView>>;
  /** A requested recovery finishes after this many GetNodeState calls (default 3); -1: never. */
  recoveryAfterCalls?: number;
  /** SetNodeFlags is acknowledged but the node never shows the change. */
  flagsIgnored?: boolean;
}

export class FakeError extends Error {
  readonly codeName = 'ERR_NODE_UNREACHABLE';
}

export interface FakeClient extends CliClient {
  calls: { method: string; pnn: number | undefined }[];
  states: Map<number, NodeStateView>;
  closed: boolean;
  stored: Map<string, Buffer | null>;
}

function rec(key: string, data: string, rsn = 1, dmaster = 0, flags = 0): TraversedRecord {
  return { key: Buffer.from(key), header: { rsn, dmaster, flags }, data: Buffer.from(data) };
}
export { rec };

export function fakeClient(seed: FakeSeed): FakeClient {
  const nodes = seed.nodes ?? [0, 1, 2].map((p) => ({ pnn: p, address: `127.0.0.${p + 1}`, flags: ['OK'] }));
  const calls: FakeClient['calls'] = [];
  const stored = new Map<string, Buffer | null>();
  const at = (method: string, o?: NodeOpts): number => {
    calls.push({ method, pnn: o?.pnn });
    if (o?.pnn !== undefined && seed.failingPnns?.includes(o.pnn)) throw new FakeError(`node ${o.pnn} is unreachable`);
    return o?.pnn ?? seed.pnn ?? 0;
  };
  const dbOf = (d: DbMapEntry & { records?: TraversedRecord[] }): CliDb => ({
    id: d.id,
    name: d.name,
    persistent: d.persistent,
    fetch: async (key) => {
      const r = d.records?.find((x) => x.key.equals(key) && x.data.length > 0);
      return r === undefined ? { found: false, data: Buffer.alloc(0) } : { found: true, header: r.header, data: r.data };
    },
    fetchLock: async (key) => ({
      store: async (data: Buffer) => void stored.set(`${d.name}/${key.toString()}`, data),
      delete: async () => void stored.set(`${d.name}/${key.toString()}`, null),
      unlock: async () => undefined,
    }),
    update: async (key, fn) => {
      const id = `${d.name}/${key.toString()}`;
      const held = stored.get(id);
      const current = held !== undefined ? held ?? Buffer.alloc(0) : d.records?.find((x) => x.key.equals(key))?.data ?? Buffer.alloc(0);
      const out = fn(current);
      const next = typeof out === 'string' ? Buffer.from(out) : out;
      stored.set(id, next.length === 0 ? null : next);
      return next;
    },
    traverse: async function* (o) {
      for (const r of d.records ?? []) if (o?.local || r.data.length > 0) yield r;
    },
  });
  const states = new Map(nodes.map((n) => [n.pnn, {
    pnn: n.pnn, generation: seed.generation ?? 77, vnnmap: seed.vnnmap ?? [0, 1, 2], stopped: false, banned: false,
    banRemainingSeconds: 0, inactive: false, frozen: false, leader: seed.leader ?? null, lastRecoveryMs: 12, recoveryStartedUnixMs: 0,
    witness: false, quorum: true, ...seed.states?.[n.pnn],
  }]));
  // A requested recovery: frozen at once, a new generation on every active node after some calls.
  let recoveryCallsLeft: number | undefined;
  const progressRecovery = (): void => {
    if (recoveryCallsLeft === undefined || recoveryCallsLeft < 0) return;
    if (--recoveryCallsLeft > 0) return;
    recoveryCallsLeft = undefined;
    for (const s of states.values()) if (!s.stopped && !s.banned) Object.assign(s, { generation: s.generation + 1, frozen: false });
  };
  const client: FakeClient = {
    pnn: seed.pnn ?? 0,
    calls,
    states,
    closed: false,
    stored,
    close: async () => void (client.closed = true),
    ping: async (o) => ({ pnn: at('ping', o), uptimeMs: 1000, rttMs: 0.25 }),
    attach: async (name, o) => {
      const d = seed.dbs?.find((x) => x.name === name) ?? { id: 0x1234, name, persistent: o?.persistent ?? false, path: `/db/${name}` };
      return dbOf(d);
    },
    getDbMap: async (o) => (at('getDbMap', o), (seed.dbs ?? []).map(({ records: _r, ...d }) => d)),
    getPnn: async (o) => at('getPnn', o),
    getNodeMap: async (o) => ({ pnn: at('getNodeMap', o), nodes }),
    getVnnMap: async (o) => (at('getVnnMap', o), { generation: seed.generation ?? 77, pnns: seed.vnnmap ?? [0, 1, 2] }),
    getTunable: async (name, o) => (at('getTunable', o), seed.tunables?.[name] ?? 5),
    setTunable: async (_n, _v, o) => void at('setTunable', o),
    listTunables: async (o) => (at('listTunables', o), Object.entries(seed.tunables ?? {}).map(([name, value]) => ({ name, value, unit: 's', doc: 'd', defaultValue: value }))),
    statistics: async (o) => ({ pnn: at('statistics', o), counters: { client_requests: 3, migrations_in: 0 } }),
    getNodeState: async (o) => {
      const s = states.get(at('getNodeState', o));
      progressRecovery();
      if (s === undefined) throw new FakeError('no such node');
      return { ...s, vnnmap: [...s.vnnmap] };
    },
    setNodeFlags: async (change, o) => {
      const s = states.get(at('setNodeFlags', o));
      if (s === undefined || seed.flagsIgnored) return;
      if ('stop' in change) s.stopped = true;
      if ('cont' in change) s.stopped = false;
      if ('banSeconds' in change) Object.assign(s, { banned: true, banRemainingSeconds: change.banSeconds });
      if ('unban' in change) Object.assign(s, { banned: false, banRemainingSeconds: 0 });
    },
    requestRecovery: async (_reason, o) => {
      at('requestRecovery', o);
      recoveryCallsLeft = seed.recoveryAfterCalls ?? 3;
      for (const s of states.values()) if (!s.stopped && !s.banned) s.frozen = true;
    },
  };
  return client;
}

export interface CapturedIo extends CtdbngIo {
  out: string;
  err: string;
}

/** An io whose socket check passes (--socket points at an existing file) and whose connect returns `client`. */
export function captureIo(client: CliClient, stderrIsTty = false): CapturedIo {
  const io: CapturedIo = {
    out: '',
    err: '',
    stdout: (s) => void (io.out += s),
    stderr: (s) => void (io.err += s),
    env: { CTDBNG_BASE: '/nonexistent-ctdbng-base' },
    stderrIsTty,
    connect: async () => client,
  };
  return io;
}
