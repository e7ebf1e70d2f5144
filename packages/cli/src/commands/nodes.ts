// status, pnn, listnodes, ping, getvnnmap (DESIGN §10).
import {
  listnodesJson, listnodesText, pingJson, pingText, statusJson, statusText, vnnmapJson, vnnmapText,
} from '../format/nodes.js';
import type { CommandSpec } from './types.js';

export const statusCommand: CommandSpec = {
  name: 'status',
  summary: 'show the node map and the vnnmap',
  args: [],
  scope: 'node',
  async run({ client, node }) {
    const [map, vnnmap] = await Promise.all([client.getNodeMap(node), client.getVnnMap(node)]);
    // No leader until the recovery daemon exists.
    const view = { pnn: map.pnn, nodes: map.nodes, vnnmap, leader: null };
    return { json: statusJson(view), text: statusText(view) };
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
