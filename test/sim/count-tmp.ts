import { Network } from './network.js';
import { runSchedule } from './schedule.js';
const counts = new Map<string, number>();
const orig = Network.prototype.send;
Network.prototype.send = function (kind, from, to, label, env, deliver) {
  const body = Object.keys(env).find((k) => !['version', 'requestId', 'targetPnn', 'node'].includes(k) && (env as Record<string, unknown>)[k] !== undefined) ?? '?';
  const k = `${kind}:${body}:${label.replace(/[0-9]/g, "")}`;
  counts.set(k, (counts.get(k) ?? 0) + 1);
  return orig.call(this, kind, from, to, label, env, deliver);
};
let events = 0, sim = 0, nodes = 0;
const t0 = performance.now();
for (let s = 2000; s < 2040; s++) { const r = runSchedule({ seed: s }); events += r.events; sim += r.simMs; nodes += r.nodes * r.simMs; }
console.log('events', events, 'simMs', sim.toFixed(0), 'avg nodes', (nodes / sim).toFixed(1), 'wall', (performance.now() - t0).toFixed(0));
let total = 0; for (const v of counts.values()) total += v; console.log('messages', total);
for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(String(v).padStart(8), (v / sim * 1000).toFixed(1).padStart(6), '/s', k);
