// getvar, setvar, listvars, statistics (DESIGN §9, §10).
import { listvarsJson, listvarsText, statisticsText, tunableLine } from '../format/misc.js';
import { arg, type CommandSpec } from './types.js';

export const getvarCommand: CommandSpec = {
  name: 'getvar',
  summary: 'show the value of a tunable',
  args: [{ name: 'name' }],
  scope: 'node',
  async run({ client, node }, args) {
    const name = arg(args, 0);
    const value = await client.getTunable(name, node);
    return { json: { name, value }, text: `${tunableLine(name, value)}\n` };
  },
};

export const setvarCommand: CommandSpec = {
  name: 'setvar',
  summary: 'set a tunable at run time',
  args: [{ name: 'name' }, { name: 'value', integer: true }],
  scope: 'node',
  async run({ client, node }, args) {
    const name = arg(args, 0);
    const value = Number(arg(args, 1));
    await client.setTunable(name, value, node);
    return { json: { name, value, ok: true }, text: '' };
  },
};

export const listvarsCommand: CommandSpec = {
  name: 'listvars',
  summary: 'list every tunable and its value',
  args: [],
  scope: 'node',
  async run({ client, node }) {
    const ts = await client.listTunables(node);
    return { json: listvarsJson(ts), text: listvarsText(ts) };
  },
};

export const statisticsCommand: CommandSpec = {
  name: 'statistics',
  summary: 'show the counters of the node',
  args: [],
  scope: 'node',
  async run({ client, node }) {
    const s = await client.statistics(node);
    return { json: { pnn: s.pnn, counters: { ...s.counters } }, text: statisticsText(s) };
  },
};
