#!/usr/bin/env node
// `ctdbng`, committed so that it exists in every clone: npm links a workspace's bins while it
// installs, before the root `prepare` builds dist/, and silently skips a bin whose file is missing.
// It runs the one-file bundle of dist/ctdbng-main.js (packages/cli/scripts/bundle.mjs, part of
// `npm run build`), which starts faster; or dist/ctdbng-main.js itself when a `tsc -b` alone has
// rebuilt dist/ since the bundle was made, so that what runs is always what was last built.
import { statSync } from 'node:fs';

const mtimeMs = (path) => statSync(new URL(path, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundleFresh = mtimeMs('../dist/bundle/ctdbng-main.js') >= mtimeMs('../dist/.tsbuildinfo');
await import(bundleFresh ? '../dist/bundle/ctdbng-main.js' : '../dist/ctdbng-main.js');
