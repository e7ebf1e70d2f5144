// Tests that need a tool from outside npm (etcd, protoc, the Python bindings, docker-compose)
// skip on a machine without it, printing one line that names the tool and the Debian package
// that brings it. With CTDBNG_TEST_STRICT=1 (set by .ci/run) a missing tool fails the file
// instead, so CI can never pass by skipping. README "Set up" lists the packages.
import { spawnSync } from 'node:child_process';

export interface SystemTool {
  /** What the test runs, as a person would name it. */
  name: string;
  /** The Debian package that installs it (apt-get install -y <package>). */
  debianPackage: string;
  present(): boolean;
}

function onPath(command: string): () => boolean {
  return () => spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).status === 0;
}

/** Debian's /usr/bin/python3, not a pyenv one on PATH: the Debian packages install there. */
export const debianPython = '/usr/bin/python3';

function pythonModule(module: string): () => boolean {
  return () => spawnSync(debianPython, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

export const systemTools = {
  etcd: { name: 'etcd', debianPackage: 'etcd-server', present: onPath('etcd') },
  protoc: { name: 'protoc', debianPackage: 'protobuf-compiler', present: onPath('protoc') },
  pythonZmq: { name: 'python3 module zmq', debianPackage: 'python3-zmq', present: pythonModule('zmq') },
  pythonProtobuf: { name: 'python3 module google.protobuf', debianPackage: 'python3-protobuf', present: pythonModule('google.protobuf') },
  pythonYaml: { name: 'python3 module yaml', debianPackage: 'python3-yaml', present: pythonModule('yaml') },
  dockerCompose: { name: 'docker-compose', debianPackage: 'docker-compose', present: onPath('docker-compose') },
  iptables: { name: 'iptables', debianPackage: 'iptables', present: onPath('iptables') },
} as const satisfies Record<string, SystemTool>;

export const strictEnvVar = 'CTDBNG_TEST_STRICT';

export function strictMode(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[strictEnvVar] === '1';
}

export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
}

/** The line printed for a missing tool. */
export function skipLine(tool: SystemTool, what: string): string {
  return `skipped ${what}: ${tool.name} is not installed (apt-get install -y ${tool.debianPackage})`;
}

/**
 * True when every tool is present. Otherwise prints one line per missing tool and returns false
 * (the caller skips), or in strict mode throws, failing the file.
 */
export function haveTools(what: string, tools: readonly SystemTool[], env: NodeJS.ProcessEnv = process.env): boolean {
  const missing = tools.filter((t) => !t.present());
  if (missing.length === 0) return true;
  const lines = missing.map((t) => skipLine(t, what));
  if (strictMode(env)) throw new MissingToolError(`${strictEnvVar}=1: ${lines.join('; ')}`);
  for (const line of lines) process.stderr.write(`${line}\n`);
  return false;
}
