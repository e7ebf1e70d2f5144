#!/usr/bin/env node
// `ctdbng-dbd`, committed so that it exists in every clone: npm links a workspace's bins while it
// installs, before the root `prepare` builds dist/, and silently skips a bin whose file is missing.
// It runs the one-file bundle dist/bundle/dbd-main.cjs (packages/cli/scripts/bundle.mjs, part of
// `npm run build`; issue 12, start: a node starts three daemons at once, and resolving and
// compiling their ES modules was most of a daemon's start-up CPU), or dist/shell/main.js itself
// when a `tsc -b` alone has rebuilt dist/ since the bundle was made, so that what runs is always
// what was last built. This file is CommonJS (bin/package.json).
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');

const mtimeMs = (path) => statSync(join(__dirname, path), { throwIfNoEntry: false })?.mtimeMs ?? -1;
if (mtimeMs('../dist/bundle/dbd-main.cjs') >= mtimeMs('../dist/.tsbuildinfo')) require('../dist/bundle/dbd-main.cjs');
else void import('../dist/shell/main.js');
