// getdbmap, attach, and finding the db a record command names (DESIGN §10).
import type { CliClient, CliDb } from '../client-types.js';
import { attachJson, dbIdHex, dbmapJson, dbmapText } from '../format/misc.js';
import { arg, CommandError, type CommandSpec } from './types.js';

export const getdbmapCommand: CommandSpec = {
  name: 'getdbmap',
  summary: 'list the attached databases',
  args: [],
  scope: 'node',
  async run({ client, node }) {
    const dbs = await client.getDbMap(node);
    return { json: dbmapJson(dbs), text: dbmapText(dbs) };
  },
};

export const attachCommand: CommandSpec = {
  name: 'attach',
  summary: 'attach a database on every node (volatile unless "persistent")',
  args: [{ name: 'name' }, { name: 'persistent', optional: true, choices: ['persistent'] }],
  scope: 'local',
  async run({ client }, args) {
    const db = await client.attach(arg(args, 0), { persistent: args[1] === 'persistent' });
    const kind = db.persistent ? 'persistent' : 'volatile';
    return { json: attachJson(db), text: `Attached ${kind} database ${db.name} (dbid:${dbIdHex(db.id)})\n` };
  },
};

/** The db named by NAME or by its 0x id, as ctdb's db_exists; it must already exist. */
export async function openExistingDb(client: CliClient, dbArg: string): Promise<CliDb> {
  const dbs = await client.getDbMap();
  const byId = /^0x[0-9a-fA-F]+$/.test(dbArg) ? Number.parseInt(dbArg.slice(2), 16) : undefined;
  const entry = dbs.find((d) => d.name === dbArg || (byId !== undefined && d.id === byId));
  if (entry === undefined) throw new CommandError(`no database matching '${dbArg}' found`);
  // attach is idempotent and gives this client a handle on the db.
  return client.attach(entry.name, { persistent: entry.persistent });
}
