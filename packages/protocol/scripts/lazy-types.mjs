// Rewrites of pbjs's static module (gen.mjs) so that each message and enum of ctdbng.v1 is defined
// on first use: a process uses a few of the ~110 types (`ctdbng pnn` uses 7), and compiling and
// running every definition took ~4 ms of each `ctdbng` start (packages/cli/README.md,
// "Start-up time"). `ctdbng.v1.Name` behaves as before: a getter runs the definition on first
// access, then replaces itself with the value. Both rewrites throw if pbjs's layout is not the
// expected one: `v1.Name = (function() {` … `})();` at 8 spaces, no nested types.

const open = /^ {8}v1\.([A-Za-z_][A-Za-z0-9_]*) = \(function\(\) \{$/;
const close = /^ {8}\}\)\(\);$/;
const rootLine = 'const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});';
const rootComment = '// Exported root namespace\n';
const esm = {
  protobufImport: 'import $protobuf from "protobufjs/minimal.js";',
  namespaceExport: 'export const ctdbng = $root.ctdbng = (() => {',
  defaultExport: 'export {\n  $root as default\n};',
};
/** What a definition refers to outside itself (checked in perTypeModules). */
const aliases = ['$root', '$Reader', '$Writer', '$util', '$Object', '$undefined', '$Error', '$RangeError'];

const lazyHelper = [
  '// Defines ns[name] on first access (packages/protocol/scripts/lazy-types.mjs).',
  'function $lazy(ns, name, define) {',
  '    $Object.defineProperty(ns, name, { configurable: true, enumerable: true, get() {',
  '        const value = define();',
  '        $Object.defineProperty(ns, name, { value, writable: true, enumerable: true, configurable: true });',
  '        return value;',
  '    } });',
  '}',
  '',
].join('\n');

function replaceOnce(code, from, to) {
  if (!code.includes(from)) throw new Error(`gen: unexpected pbjs layout (no ${JSON.stringify(from.split('\n')[0])})`);
  return code.replace(from, () => to);
}

/** The helper goes before the root namespace (its comment, when pbjs wrote comments). */
function withHelper(code) {
  const anchor = code.includes(rootComment) ? rootComment : rootLine;
  return replaceOnce(code, anchor, `${lazyHelper}\n${anchor}`);
}

/** The code split at each v1 definition: `parts` alternates code and `{ name, body }`. */
function splitDefinitions(code) {
  const parts = [];
  let text = [];
  let def;
  for (const line of code.split('\n')) {
    const start = open.exec(line);
    if (def === undefined && start !== null) {
      parts.push(text.join('\n'));
      text = [];
      def = { name: start[1], body: [] };
    } else if (def !== undefined && close.test(line)) {
      parts.push({ name: def.name, body: def.body.join('\n') });
      def = undefined;
    } else if (def !== undefined) {
      if (open.test(line)) throw new Error(`gen: unexpected pbjs layout (a definition inside ${def.name})`);
      def.body.push(line);
    } else {
      text.push(line);
    }
  }
  if (def !== undefined) throw new Error(`gen: unexpected pbjs layout (${def.name} does not end)`);
  parts.push(text.join('\n'));
  if (parts.length < 3) throw new Error('gen: unexpected pbjs layout (no v1 definitions)');
  return parts;
}

/** One ES module: each definition stays in place, as the body of a function run on first access. */
export function inlineLazyTypes(code) {
  const parts = splitDefinitions(code).map((p) => (typeof p === 'string' ? p : `        $lazy(v1, "${p.name}", function() {\n${p.body}\n        });`));
  return withHelper(parts.join('\n'));
}

/**
 * A CommonJS index (`ctdbng.cjs`) and one CommonJS file per definition (`v1/Name.cjs`), which the
 * index requires on first access: a process reads and compiles only the definitions it uses. For
 * the bundles (packages/cli/scripts/bundle.mjs), where every byte of the one file is parsed at
 * start: they take in the index and the few types every command uses, and leave the rest to
 * require(). Returns the files by path relative to the output directory.
 */
export function perTypeModules(code, header) {
  const files = new Map();
  const parts = splitDefinitions(code).map((p) => {
    if (typeof p === 'string') return p;
    const free = [...p.body.matchAll(/(?<![\w.$])\$[A-Za-z]\w*/g)].map((m) => m[0]).filter((n) => !aliases.includes(n) && !/^\$(oneOfFields|unknowns)$/.test(n));
    if (free.length > 0) throw new Error(`gen: ${p.name} refers to ${[...new Set(free)].join(', ')}`);
    files.set(`v1/${p.name}.cjs`, `${header}'use strict';\nmodule.exports = function define(${aliases.join(', ')}) {\n${p.body}\n};\n`);
    return `        $lazy(v1, "${p.name}", () => require("./v1/${p.name}.cjs")(${aliases.join(', ')}));`;
  });
  let index = withHelper(parts.join('\n'));
  index = replaceOnce(index, esm.protobufImport, `'use strict';\nconst $protobuf = require("protobufjs/minimal.js");`);
  index = replaceOnce(index, esm.namespaceExport, 'const ctdbng = exports.ctdbng = $root.ctdbng = (() => {');
  index = replaceOnce(index, esm.defaultExport, 'exports.default = $root;');
  files.set('ctdbng.cjs', header + index);
  return files;
}
