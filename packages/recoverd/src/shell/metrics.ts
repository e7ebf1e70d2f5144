// recoverd's Prometheus metrics (served on metrics port + 2): base units, `_total` on counters,
// labels bounded by the nodes file.
import { Registry } from '@ctdbng/common';
import type { NodeState, RecoverdMetrics } from '../core/io.js';

export const recoveryBucketsSeconds = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function recoverdMetrics(): { registry: Registry; sink: RecoverdMetrics } {
  const registry = new Registry();
  const recoveries = registry.counter('ctdbng_recoverd_recoveries_total', 'Recoveries run by this node as leader, by outcome.');
  const duration = registry.histogram('ctdbng_recoverd_recovery_duration_seconds', 'Duration of recoveries run by this node (successful and failed).', recoveryBucketsSeconds);
  const elections = registry.counter('ctdbng_recoverd_elections_total', 'Elections this node stood in.');
  const bans = registry.counter('ctdbng_recoverd_bans_total', 'Nodes banned by this node as leader.');
  const isLeader = registry.gauge('ctdbng_recoverd_is_leader', '1 while this node is the leader.');
  const term = registry.gauge('ctdbng_recoverd_term', 'The election term this node is in.');
  const connected = registry.gauge('ctdbng_recoverd_node_connected', 'Leader only: 1 when the node answered the last GetNodeState.');
  const flags = registry.gauge('ctdbng_recoverd_node_flag', 'Leader only: node flags from the last monitor pass (1 = set).');
  const generation = registry.gauge('ctdbng_recoverd_node_generation', 'Leader only: the generation each node reported.');
  const sink: RecoverdMetrics = {
    election: () => elections.inc(),
    recovery: (ms, ok) => {
      recoveries.inc({ outcome: ok ? 'ok' : 'failed' });
      duration.observe(ms / 1000);
    },
    ban: (pnn) => bans.inc({ pnn: String(pnn) }),
    leadership: (leader, t) => {
      isLeader.set(leader ? 1 : 0);
      term.set(t);
    },
    nodeStates: (views: ReadonlyMap<number, NodeState | undefined>) => {
      for (const [pnn, st] of views) {
        const l = { pnn: String(pnn) };
        connected.set(st === undefined ? 0 : 1, l);
        if (st === undefined) continue;
        for (const f of ['stopped', 'banned', 'inactive', 'frozen'] as const) flags.set(st[f] ? 1 : 0, { ...l, flag: f });
        generation.set(st.generation, l);
      }
    },
  };
  return { registry, sink };
}
