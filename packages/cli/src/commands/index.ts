// The table of `ctdbng` commands (DESIGN §10). A new command is one module and one row here.
import { attachCommand, getdbmapCommand } from './dbs.js';
import { getvnnmapCommand, listnodesCommand, nodestatusCommand, pingCommand, pnnCommand, statusCommand, uptimeCommand } from './nodes.js';
import { banCommand, continueCommand, recoverCommand, stopCommand, unbanCommand } from './recovery.js';
import { catdbCommand, cattdbCommand, deletekeyCommand, incrkeyCommand, readkeyCommand, writekeyCommand } from './records.js';
import { getvarCommand, listvarsCommand, setvarCommand, statisticsCommand } from './tunables.js';
import type { CommandSpec } from './types.js';
import { vacuumCommand } from './vacuum.js';

export const COMMANDS: readonly CommandSpec[] = [
  statusCommand,
  nodestatusCommand,
  pnnCommand,
  listnodesCommand,
  pingCommand,
  uptimeCommand,
  getdbmapCommand,
  getvnnmapCommand,
  attachCommand,
  catdbCommand,
  cattdbCommand,
  readkeyCommand,
  writekeyCommand,
  deletekeyCommand,
  incrkeyCommand,
  getvarCommand,
  setvarCommand,
  listvarsCommand,
  statisticsCommand,
  recoverCommand,
  stopCommand,
  continueCommand,
  banCommand,
  unbanCommand,
  vacuumCommand,
];

export type { CommandSpec } from './types.js';
