#!/usr/bin/env node
// The built-in cluster lock helper for a shared file (DESIGN §5.1): `lock-file-helper.js FILE`.
// Node has no flock(2), so this runs util-linux flock(1):
//   flock --nonblock --conflict-exit-code 1 --no-fork FILE sh -c 'echo 0; exec cat >/dev/null'
// flock takes an exclusive lock on FILE (created if missing) and, without forking, execs the
// shell, which prints "0" (lock held) and becomes `cat` reading our stdin. The lock lives in that
// one process's open file: it ends when the process is killed (recoverd kills the helper's process
// group) or when stdin reaches EOF (recoverd died: the pipe closed). A lock held elsewhere makes
// flock exit 1 at once, and this helper prints "1". No pid files, nothing stale after a crash:
// the kernel drops the lock with the last open descriptor. (On NFS, Linux maps flock to fcntl
// locks, which the server arbitrates.)
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

function giveUp(code: '1' | '3', why: string): never {
  process.stdout.write(`${code}\n`);
  if (why !== '') process.stderr.write(`lock-file-helper: ${why}\n`);
  process.exit(Number(code));
}

const file = process.argv[2];
if (file === undefined || file === '') giveUp('3', 'usage: lock-file-helper FILE');
try {
  mkdirSync(dirname(file), { recursive: true });
} catch (err) {
  giveUp('3', `cannot create the directory of ${file}: ${(err as Error).message}`);
}
const child = spawn('flock', ['--nonblock', '--conflict-exit-code', '1', '--no-fork', file, 'sh', '-c', 'echo 0; exec cat >/dev/null'], { stdio: 'inherit' });
child.once('error', (err) => giveUp('3', `flock not started (install util-linux): ${err.message}`));
child.once('exit', (code, signal) => {
  if (code === 1) giveUp('1', '');
  process.exit(code ?? (signal === null ? 3 : 0));
});
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(sig, () => {
    child.kill('SIGTERM');
    process.exit(0);
  });
}
