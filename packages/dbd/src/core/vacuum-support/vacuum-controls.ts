// What vacuumd asks its own dbd (proto/ctdbng/v1/vacuum.proto): the feed, routing, migrations
// to the lmaster, the cluster phases, purge and space. In band: dbd runs each under its own
// record locks and generation checks (DESIGN §4).
import { bodyOf, type Envelope, type EnvelopeInit } from '@ctdbng/protocol';
import type { Ctx } from '../ctx.js';
import { ackDeleted, deletedSince } from './feed.js';
import { vacuumPlan } from './plan.js';
import { migrateToLmaster } from './migrate-to-lmaster.js';
import { purgeIfUnchanged, reclaimSpace } from './purge.js';
import type { VacuumRemotes } from './remote.js';

type Reply = (body: EnvelopeInit) => void;

export interface VacuumDeps {
  ctx: Ctx;
  vacuumRemotes: VacuumRemotes;
}

type Handler = (d: VacuumDeps, env: Envelope, reply: Reply) => void;

export const vacuumControls: Record<string, Handler> = {
  deletedSince: ({ ctx }, env, reply) => deletedSince(ctx, bodyOf(env, 'deletedSince'), reply),
  ackDeleted: ({ ctx }, env, reply) => ackDeleted(ctx, bodyOf(env, 'ackDeleted'), reply),
  vacuumPlan: ({ ctx }, env, reply) => vacuumPlan(ctx, bodyOf(env, 'vacuumPlan'), reply),
  migrateToLmaster: ({ ctx }, env, reply) => migrateToLmaster(ctx, bodyOf(env, 'migrateToLmaster'), reply),
  vacuumRemote: (d, env, reply) => d.vacuumRemotes.start(bodyOf(env, 'vacuumRemote'), reply),
  purgeIfUnchanged: ({ ctx }, env, reply) => purgeIfUnchanged(ctx, bodyOf(env, 'purgeIfUnchanged'), reply),
  reclaimSpace: ({ ctx }, env, reply) => reclaimSpace(ctx, bodyOf(env, 'reclaimSpace'), reply),
};

export function isVacuumControl(body: string): boolean {
  return Object.prototype.hasOwnProperty.call(vacuumControls, body);
}
