#!/usr/bin/env node
// `ctdbng`: the command-line tool of ctdb-ng (DESIGN §10). See packages/cli/README.md.
import { connect } from '@ctdbng/client';
import { runCtdbng } from './cli/run.js';

const code = await runCtdbng(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  env: process.env,
  stderrIsTty: process.stderr.isTTY === true,
  connect: (o) => connect(o),
});
// Exit explicitly: stdout and stderr are synchronous for files, pipes and terminals on Linux, so
// nothing is lost, and no socket or timer of the client can keep the process alive.
process.exit(code);
