// The table of `ctdbng` commands (DESIGN §10). A new command is one module and one row here.
import { attachCommand, getdbmapCommand } from './dbs.js';
import { getvnnmapCommand, listnodesCommand, pingCommand, pnnCommand, statusCommand } from './nodes.js';
import { catdbCommand, cattdbCommand, deletekeyCommand, readkeyCommand, writekeyCommand } from './records.js';
import { getvarCommand, listvarsCommand, setvarCommand, statisticsCommand } from './tunables.js';
import type { CommandSpec } from './types.js';

export const COMMANDS: readonly CommandSpec[] = [
  statusCommand,
  pnnCommand,
  listnodesCommand,
  pingCommand,
  getdbmapCommand,
  getvnnmapCommand,
  attachCommand,
  catdbCommand,
  cattdbCommand,
  readkeyCommand,
  writekeyCommand,
  deletekeyCommand,
  getvarCommand,
  setvarCommand,
  listvarsCommand,
  statisticsCommand,
];

export type { CommandSpec } from './types.js';
