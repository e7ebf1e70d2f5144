// The simulated network: every message between daemons is a frame (encoded as on the wire)
// delivered after a seeded delay, in order per channel (ZeroMQ keeps order per connection) and in
// any order across channels. Faults: a node cut off from another in one direction or both (dbd's
// node links only, like run/faults.json "oneWay", or every channel, like "blockedPeers"), and the
// loss of what is in flight on a channel (a ZeroMQ reconnect drops what sat in kernel buffers).
import { decodeEnvelope, encodeEnvelope, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { Prng } from './prng.js';
import type { SimEvent, World } from './world.js';

/** dbd ↔ dbd node links; recoverd ↔ recoverd; a leader's controls to dbds; anything on one host. */
export type ChannelKind = 'node' | 'peer' | 'control' | 'local';

interface Channel {
  lastAtMs: number;
  inFlight: SimEvent[];
}

export const delayMsMin = 0.05;
export const delayMsMax = 2;

/**
 * A scripted fault of a named scenario, matched when a frame is sent: the first frame whose body
 * is `body` (and kind, from, to when given) is dropped, held back `delayMs` longer, or handed to
 * `before` first (which may kill a daemon). Used once unless `always`.
 */
export interface Rule {
  body: string;
  kind?: ChannelKind;
  from?: number;
  to?: number;
  drop?: boolean;
  delayMs?: number;
  before?: (env: EnvelopeInit, from: number, to: number) => void;
  always?: boolean;
  /** Set when the rule matched. */
  hits?: number;
}

function bodyName(env: EnvelopeInit): string {
  return Object.keys(env).find((k) => !['version', 'requestId', 'targetPnn', 'node'].includes(k) && (env as Record<string, unknown>)[k] !== undefined) ?? '?';
}

export class Network {
  private readonly channels = new Map<string, Channel>();
  /** a>b: b hears nothing a sends on node links (one-way or both-way cut). */
  private readonly nodeCut = new Set<string>();
  /** a>b: b hears nothing from a on any channel (a partition, "blockedPeers"). */
  private readonly fullCut = new Set<string>();
  sent = 0;
  dropped = 0;
  readonly rules: Rule[] = [];
  /** Sees every frame delivered (`--watch`: the messages about one key). */
  tap: ((kind: ChannelKind, from: number, to: number, env: Envelope) => void) | undefined;

  constructor(private readonly world: World, private readonly rng: Prng) {}

  /** Queues `env` from → to on a channel; `deliver` runs with the decoded envelope on arrival. */
  send(kind: ChannelKind, from: number, to: number, label: string, env: EnvelopeInit, deliver: (env: Envelope) => void): void {
    this.sent++;
    if (this.cut(kind, from, to)) {
      this.dropped++;
      return;
    }
    const rule = this.rules.length === 0 ? undefined : this.match(kind, from, to, env);
    if (rule?.before !== undefined) rule.before(env, from, to);
    if (rule?.drop === true || this.cut(kind, from, to)) {
      this.dropped++;
      return;
    }
    const frame = encodeEnvelope(env);
    const name = `${kind}:${from}>${to}:${label}`;
    let ch = this.channels.get(name);
    if (ch === undefined) {
      ch = { lastAtMs: 0, inFlight: [] };
      this.channels.set(name, ch);
    }
    const jitter = delayMsMin + this.rng.next() * (delayMsMax - delayMsMin);
    const atMs = Math.max(this.world.nowMs + jitter + (rule?.delayMs ?? 0), ch.lastAtMs + 0.001);
    ch.lastAtMs = atMs;
    const channel = ch;
    const ev = this.world.at(atMs - this.world.nowMs, () => {
      channel.inFlight.shift();
      // A cut made while the frame was in flight drops it too.
      if (this.cut(kind, from, to)) {
        this.dropped++;
        return;
      }
      const dec = decodeEnvelope(frame);
      if (!dec.ok) throw new Error(`sim: undecodable frame on ${name}: ${dec.error.message}`);
      this.tap?.(kind, from, to, dec.envelope);
      deliver(dec.envelope);
    });
    ch.inFlight.push(ev);
  }

  private match(kind: ChannelKind, from: number, to: number, env: EnvelopeInit): Rule | undefined {
    const body = bodyName(env);
    const i = this.rules.findIndex((r) => r.body === body && (r.kind === undefined || r.kind === kind) && (r.from === undefined || r.from === from) && (r.to === undefined || r.to === to));
    if (i < 0) return undefined;
    const rule = this.rules[i]!;
    rule.hits = (rule.hits ?? 0) + 1;
    if (rule.always !== true) this.rules.splice(i, 1);
    return rule;
  }

  private cut(kind: ChannelKind, from: number, to: number): boolean {
    if (kind === 'local' || from === to) return false;
    const k = `${from}>${to}`;
    if (this.fullCut.has(k)) return true;
    return kind === 'node' && this.nodeCut.has(k);
  }

  /** Node `a`'s node messages to `b` are lost from now on (one direction). */
  cutNodeLink(a: number, b: number): void {
    this.nodeCut.add(`${a}>${b}`);
  }

  /** Nothing goes between the groups, either way, on any channel. */
  partition(a: readonly number[], b: readonly number[]): void {
    for (const x of a) for (const y of b) {
      this.fullCut.add(`${x}>${y}`);
      this.fullCut.add(`${y}>${x}`);
    }
  }

  healAll(): void {
    this.nodeCut.clear();
    this.fullCut.clear();
  }

  get anyCut(): boolean {
    return this.nodeCut.size > 0 || this.fullCut.size > 0;
  }

  /** Loses every frame in flight on the node link from → to (a reconnect). Returns how many. */
  dropInFlight(from: number, to: number): number {
    let n = 0;
    for (const [name, ch] of this.channels) {
      if (!name.startsWith(`node:${from}>${to}:`)) continue;
      for (const ev of ch.inFlight) if (ev.live) {
        ev.live = false;
        n++;
      }
      ch.inFlight = [];
    }
    this.dropped += n;
    return n;
  }
}
