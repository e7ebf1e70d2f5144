// status, nodestatus, uptime, pnn, listnodes, ping, getvnnmap (DESIGN §10).
import {
  lines, listnodesJson, listnodesText, nodemapLines, pingJson, pingText, statusJson, statusText, vnnmapJson, vnnmapText,
  type StatusView,
} from '../format/nodes.js';
import { uptimeJson, uptimeText } from '../format/uptime.js';
import { clusterView, viewEntries, type ClusterView } from './node-states.js';
import { CommandError, type CommandSpec } from './types.js';

function statusViewOf(v: ClusterView, pnns?: ReadonlySet<number>): StatusView {
  const nodes = viewEntries(v).filter((n) => pnns === undefined || pnns.has(n.pnn));
  return { pnn: v.pnn, nodes, vnnmap: { generation: v.self.generation, pnns: v.self.vnnmap }, leader: v.self.leader, frozen: v.self.frozen, quorum: v.self.quorum };
}

export const statusCommand: CommandSpec = {
  name: 'status',
  summary: 'show every node with its flags, the vnnmap, the recovery mode and the leader',
  args: [],
  scope: 'node',
  async run({ client, node }) {
    const view = statusViewOf(await clusterView(client, node));
    return { json: statusJson(view), text: statusText(view) };
  },
};

/**
 * ctdb's nodestatus: the listed nodes (this one by default, or PNN, or all) and, as exit status,
 * the OR of their flag bits (format/node-flags.ts): 0 when every listed node is OK.
 */
export const nodestatusCommand: CommandSpec = {
  name: 'nodestatus',
  summary: 'show the flags of a node (or all); exit status: their flag bits ORed, 0 if OK',
  args: [{ name: 'pnn|all', optional: true, pnnOrAll: true }],
  scope: 'local',
  async run({ client, node }, args) {
    const v = await clusterView(client, node);
    const which = args[0] === undefined || args[0] === '' ? v.pnn : args[0] === 'all' ? 'all' : Number(args[0]);
    const listed = v.nodes.filter((n) => !n.entry.flags.includes('DELETED') && (which === 'all' || n.entry.pnn === which));
    if (listed.length === 0) throw new CommandError(`Node ${which} does not exist`);
    const view = statusViewOf(v, new Set(listed.map((n) => n.entry.pnn)));
    const exitCode = listed.reduce((bits, n) => bits | n.bits, 0);
    return { json: statusJson(view), text: lines(nodemapLines(view.nodes, v.pnn, which === 'all')), exitCode };
  },
};

export const uptimeCommand: CommandSpec = {
  name: 'uptime',
  summary: 'show how long the node has run and when it last recovered',
  args: [],
  scope: 'node',
  async run({ client, node }) {
    const [p, s] = await Promise.all([client.ping(node), client.getNodeState(node)]);
    const u = {
      pnn: s.pnn, nowUnixMs: Date.now(), uptimeMs: p.uptimeMs, lastRecoveryDurationMs: s.lastRecoveryMs,
      lastRecoveryEndUnixMs: s.recoveryStartedUnixMs > 0 ? s.recoveryStartedUnixMs + s.lastRecoveryMs : undefined,
    };
    return { json: uptimeJson(u), text: uptimeText(u) };
  },
};

export const pnnCommand: CommandSpec = {
  name: 'pnn',
  summary: 'show the PNN of the node',
  args: [],
  scope: 'node',
  async run({ client, node }) {
    const pnn = await client.getPnn(node);
    return { json: { pnn }, text: `${pnn}\n` };
  },
};

export const listnodesCommand: CommandSpec = {
  name: 'listnodes',
  summary: 'list the address of every node',
  args: [],
  scope: 'node',
  async run({ client, node }) {
    const map = await client.getNodeMap(node);
    return { json: listnodesJson(map.nodes), text: listnodesText(map.nodes) };
  },
};

export const pingCommand: CommandSpec = {
  name: 'ping',
  summary: 'check that the node answers',
  args: [],
  scope: 'node',
  async run({ client, node }) {
    const p = await client.ping(node);
    return { json: pingJson(p), text: pingText(p) };
  },
};

export const getvnnmapCommand: CommandSpec = {
  name: 'getvnnmap',
  summary: 'show the generation and the vnnmap',
  args: [],
  scope: 'node',
  async run({ client, node }) {
    const v = await client.getVnnMap(node);
    return { json: vnnmapJson(v), text: vnnmapText(v) };
  },
};
