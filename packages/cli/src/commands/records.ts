// readkey, writekey, deletekey, incrkey, catdb, cattdb (DESIGN §10). Always on the local node, as ctdb.
import type { CliDb, HeldRecord } from '../client-types.js';
import { parseBytesArg } from '../format/bytes.js';
import { dumpedLine, readkeyJson, readkeyText, recordJson, recordText, type RecordJson } from '../format/records.js';
import { openExistingDb } from './dbs.js';
import { arg, CommandError, type CommandContext, type CommandSpec, type Output } from './types.js';

/** Runs `op` (which unlocks on success) with the record lock; unlocks if it fails. */
async function underLock(db: CliDb, key: Buffer, op: (held: HeldRecord) => Promise<unknown>): Promise<void> {
  const held = await db.fetchLock(key);
  try {
    await op(held);
  } catch (err) {
    // Best effort: when the unlock fails too, the lock's lease ends it (LockLeaseSeconds).
    await held.unlock().catch(() => undefined);
    throw err;
  }
}

export const readkeyCommand: CommandSpec = {
  name: 'readkey',
  summary: 'read a record (migrating it here if needed)',
  args: [{ name: 'db' }, { name: 'key' }],
  scope: 'local',
  async run({ client }, args) {
    const db = await openExistingDb(client, arg(args, 0));
    const key = parseBytesArg(arg(args, 1));
    const r = await db.fetch(key);
    const result = { db: db.name, key, found: r.found, data: r.found ? r.data : Buffer.alloc(0) };
    return { json: readkeyJson(result), text: readkeyText(result) };
  },
};

export const writekeyCommand: CommandSpec = {
  name: 'writekey',
  summary: 'write a record under its lock',
  args: [{ name: 'db' }, { name: 'key' }, { name: 'value' }],
  scope: 'local',
  async run({ client }, args) {
    const db = await openExistingDb(client, arg(args, 0));
    const key = parseBytesArg(arg(args, 1));
    const value = parseBytesArg(arg(args, 2));
    await underLock(db, key, (held) => held.store(value, { unlock: true }));
    return { json: { db: db.name, key: key.toString('utf8'), ok: true }, text: '' };
  },
};

export const deletekeyCommand: CommandSpec = {
  name: 'deletekey',
  summary: 'delete a record under its lock (leaves a tombstone for vacuuming)',
  args: [{ name: 'db' }, { name: 'key' }],
  scope: 'local',
  async run({ client }, args) {
    const db = await openExistingDb(client, arg(args, 0));
    const key = parseBytesArg(arg(args, 1));
    await underLock(db, key, (held) => held.delete({ unlock: true }));
    return { json: { db: db.name, key: key.toString('utf8'), ok: true }, text: '' };
  },
};

/** The counter a record holds: empty (absent, deleted) is 0, else decimal digits with an optional '-'. */
function counterOf(data: Buffer): number {
  if (data.length === 0) return 0;
  const text = data.toString('utf8');
  const n = /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new CommandError(`the record holds ${JSON.stringify(text.slice(0, 40))}, not a decimal counter`);
  return n;
}

export const incrkeyCommand: CommandSpec = {
  name: 'incrkey',
  summary: 'add DELTA (default 1) to a decimal counter record in one step and print the new value',
  args: [{ name: 'db' }, { name: 'key' }, { name: 'delta', optional: true, integer: true }],
  scope: 'local',
  async run({ client }, args) {
    const db = await openExistingDb(client, arg(args, 0));
    const key = parseBytesArg(arg(args, 1));
    const delta = args[2] === undefined || args[2] === '' ? 1 : Number(args[2]);
    let value = 0;
    // One db.update: read, add and store under the lock in one step (one SQLite transaction with
    // shared access; fetch-lock, store and unlock through dbd otherwise).
    await db.update(key, (current) => {
      value = counterOf(current) + delta;
      if (!Number.isSafeInteger(value)) throw new CommandError(`the counter would leave the safe integer range (${value})`);
      return String(value);
    });
    return { json: { db: db.name, key: key.toString('utf8'), value }, text: `${value}\n` };
  },
};

/** Progress is counted every this many records (TTY only). */
const progressEveryRecords = 500;

async function dumpDb(ctx: CommandContext, db: CliDb, local: boolean): Promise<Output> {
  const records: RecordJson[] = [];
  let count = 0;
  try {
    for await (const r of db.traverse({ local })) {
      count++;
      if (ctx.json) records.push(recordJson(r));
      else ctx.write(recordText(r));
      if (count % progressEveryRecords === 0) ctx.progress.update(count);
    }
  } finally {
    ctx.progress.done();
  }
  return { json: { records }, text: dumpedLine(count, local) };
}

export const catdbCommand: CommandSpec = {
  name: 'catdb',
  summary: 'dump the live records of a database, cluster-wide',
  args: [{ name: 'db' }],
  scope: 'local',
  async run(ctx, args) {
    return dumpDb(ctx, await openExistingDb(ctx.client, arg(args, 0)), false);
  },
};

export const cattdbCommand: CommandSpec = {
  name: 'cattdb',
  summary: "dump this node's copy of a database with headers and tombstones",
  args: [{ name: 'db' }],
  scope: 'local',
  async run(ctx, args) {
    return dumpDb(ctx, await openExistingDb(ctx.client, arg(args, 0)), true);
  },
};
