// recover, stop, continue, ban SECONDS, unban (DESIGN §5, §10). Like ctdb, each returns only once
// the change is seen: recover when every active node has a new generation and is thawed; the flag
// commands when the node reports the flag changed.
import type { CliClient, NodeFlagsChange, NodeOpts, NodeStateView } from '../client-types.js';
import { flagNames, nodeBits } from '../format/node-flags.js';
import { optsFor, pollUntil, tryNodeState } from './node-states.js';
import { arg, CommandError, type CommandContext, type CommandSpec, type Output } from './types.js';

/** How long recover waits for the recovery when -T is not given. */
export const recoverWaitMsDefault = 60_000;
/** How long stop, continue, ban and unban wait for the flag when -T is not given. */
export const flagWaitMsDefault = 30_000;

/** Nodes that take part in a recovery: answering, neither stopped, banned nor inactive. */
function isActive(s: NodeStateView | undefined): s is NodeStateView {
  return s !== undefined && !s.stopped && !s.banned && !s.inactive;
}

async function statesOf(client: CliClient, node: NodeOpts, pnns: readonly number[]): Promise<Map<number, NodeStateView | undefined>> {
  const states = await Promise.all(pnns.map((p) => tryNodeState(client, node, p)));
  return new Map(pnns.map((p, i) => [p, states[i]]));
}

/**
 * The new generation once every node active before the request has one different from its
 * generation then and none is frozen; undefined while not. A node that stops answering meanwhile
 * no longer counts (the recovery goes on without it), but the local node always does.
 */
export function recoveredGeneration(
  before: ReadonlyMap<number, NodeStateView>, now: ReadonlyMap<number, NodeStateView | undefined>, localPnn: number,
): number | undefined {
  const seen = [...before.keys()].map((p) => ({ p, s: now.get(p) })).filter(({ p, s }) => s !== undefined || p === localPnn);
  const done = seen.every(({ p, s }) => s !== undefined && !s.frozen && s.generation !== 0 && s.generation !== before.get(p)!.generation);
  return done ? seen.find(({ p }) => p === localPnn)?.s?.generation ?? seen[0]?.s?.generation : undefined;
}

export const recoverCommand: CommandSpec = {
  name: 'recover',
  summary: 'run a recovery now and wait until it is done',
  args: [],
  scope: 'one',
  async run({ client, node, waitMs }) {
    const { pnn: _target, ...local } = node;
    const map = await client.getNodeMap(local);
    const pnns = map.nodes.filter((n) => !n.flags.includes('DELETED')).map((n) => n.pnn);
    const before = new Map([...(await statesOf(client, local, pnns))].filter((e): e is [number, NodeStateView] => isActive(e[1])));
    if (before.size === 0) throw new CommandError('no active node to recover (every node is stopped, banned, inactive or not answering)');
    const startedMs = performance.now();
    await client.requestRecovery('ctdbng recover', node);
    const generation = await pollUntil(
      async () => recoveredGeneration(before, await statesOf(client, local, [...before.keys()]), client.pnn),
      waitMs ?? recoverWaitMsDefault, 'the recovery to finish on every active node');
    return { json: { generation, durationMs: Math.round(performance.now() - startedMs) }, text: '' };
  },
};

interface FlagCommand {
  name: string;
  summary: string;
  /** The field of NodeState the command changes, and the value it wants. */
  field: 'stopped' | 'banned';
  want: boolean;
  /** ctdb's line when the node already is as wanted. */
  already: string;
  change(args: readonly string[]): NodeFlagsChange;
}

async function runFlagCommand(c: FlagCommand, ctx: CommandContext, args: readonly string[]): Promise<Output> {
  const { client, node, waitMs } = ctx;
  const pnn = node.pnn ?? client.pnn;
  const opts = optsFor(client, node, pnn);
  const flagsJson = (s: NodeStateView): { pnn: number; flags: string[] } => ({ pnn, flags: flagNames(nodeBits(s)) });
  const before = await client.getNodeState(opts);
  if (before[c.field] === c.want) return { json: flagsJson(before), text: `Node ${pnn} ${c.already}\n` };
  await client.setNodeFlags(c.change(args), opts);
  const after = await pollUntil(async () => {
    const s = await client.getNodeState(opts);
    return s[c.field] === c.want ? s : undefined;
  }, waitMs ?? flagWaitMsDefault, `node ${pnn} to be ${c.want ? '' : 'no longer '}${c.field}`);
  return { json: flagsJson(after), text: '' };
}

function flagCommand(c: FlagCommand, args: CommandSpec['args'] = []): CommandSpec {
  return { name: c.name, summary: c.summary, args, scope: 'one', run: (ctx, a) => runFlagCommand(c, ctx, a) };
}

export const stopCommand = flagCommand({
  name: 'stop', summary: 'stop the node: it leaves the cluster until continue', field: 'stopped', want: true,
  already: 'is already stopped', change: () => ({ stop: true }),
});

export const continueCommand = flagCommand({
  name: 'continue', summary: 'restart a stopped node', field: 'stopped', want: false,
  already: 'is not stopped', change: () => ({ cont: true }),
});

export const banCommand = flagCommand({
  name: 'ban', summary: 'ban the node for SECONDS: it leaves the cluster until then or unban', field: 'banned', want: true,
  already: 'is already banned', change: (args) => ({ banSeconds: Number(arg(args, 0)) }),
}, [{ name: 'seconds', positiveInteger: true }]);

export const unbanCommand = flagCommand({
  name: 'unban', summary: 'lift the ban of the node', field: 'banned', want: false,
  already: 'is not banned', change: () => ({ unban: true }),
});
