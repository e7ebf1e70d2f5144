#!/usr/bin/env node
// `ctdbng-cluster`, committed so that it exists in every clone: npm links a workspace's bins while it
// installs, before the root `prepare` builds dist/, and silently skips a bin whose file is missing.
// It runs the one-file bundle dist/bundle/cluster-main.cjs (packages/cli/scripts/bundle.mjs, part of
// `npm run build`), or dist/cluster-main.js itself when a `tsc -b` alone has rebuilt dist/ since the
// bundle was made, so that what runs is always what was last built. This file is CommonJS
// (bin/package.json): a start that loads no ES module skips the ESM loader.
'use strict';
const { statSync } = require('node:fs');
const { join } = require('node:path');

const mtimeMs = (path) => statSync(join(__dirname, path), { throwIfNoEntry: false })?.mtimeMs ?? -1;
if (mtimeMs('../dist/bundle/cluster-main.cjs') >= mtimeMs('../dist/.tsbuildinfo')) require('../dist/bundle/cluster-main.cjs');
else void import('../dist/cluster-main.js');
