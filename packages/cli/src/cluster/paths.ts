// Paths inside a node directory of a local cluster (DESIGN §11). No dependencies: the supervisor
// loads this before it starts its daemons.
import { join } from 'node:path';

export function nodeDir(base: string, pnn: number): string {
  return join(base, `node.${pnn}`);
}

export const nodePaths = {
  runDir: (dir: string) => join(dir, 'run'),
  logDir: (dir: string) => join(dir, 'log'),
  pidFile: (dir: string, proc: string) => join(dir, 'run', `${proc}.pid`),
  logFile: (dir: string, proc: string) => join(dir, 'log', `${proc}.log`),
  socket: (dir: string) => join(dir, 'run', 'dbd.sock'),
  nodesFile: (dir: string) => join(dir, 'nodes'),
};

