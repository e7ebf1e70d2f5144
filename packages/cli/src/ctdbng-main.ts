#!/usr/bin/env node
// `ctdbng`: the command-line tool of ctdb-ng (DESIGN §10). See packages/cli/README.md.
import { connect } from '@ctdbng/client';
import { runCtdbng } from './cli/run.js';

// Exit explicitly, so that no socket or timer of the client can keep the process alive — but only
// once stdout and stderr are flushed: when they are the socketpairs child_process gives a child
// (not real pipes), writes are asynchronous, and exiting at once cut `catdb --json` of 10,000
// records off after ~200 KB. A write's callback runs after every earlier write has been handed on.
const flushed = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => stream.write('', () => resolve()));

// No top-level await: the bundle of this entry is a CommonJS file (packages/cli/scripts/bundle.mjs).
void runCtdbng(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  env: process.env,
  stderrIsTty: process.stderr.isTTY === true,
  // ZMTP spoken by the client itself: a command starts without loading libzmq (client README).
  connect: (o) => connect({ ...o, transport: 'zmtp' }),
}).then(async (code) => {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
});
