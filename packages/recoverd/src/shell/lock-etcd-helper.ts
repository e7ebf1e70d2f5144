#!/usr/bin/env node
// The built-in cluster lock helper for etcd (DESIGN §5.1): `lock-etcd-helper.js URL KEY TTL`,
// selected by `[cluster] cluster lock = etcd://host:port/key`. It speaks etcd v3's HTTP/JSON
// gateway (etcd 3.4, Debian's etcd-server):
//   1. POST /v3/lease/grant {TTL}                      → lease ID
//   2. POST /v3/kv/txn: if create_revision(KEY) == 0 then put KEY = holder with the lease
//   3. succeeded → print "0" and POST /v3/lease/keepalive {ID} every TTL/3; a failed or
//      expired keepalive exits 3 (recoverd steps down). Not succeeded → revoke, print "1", exit 1.
// SIGTERM, SIGINT or EOF on stdin (recoverd gone) revoke the lease, which deletes the key, so the
// next leader need not wait for the TTL.
import { hostname } from 'node:os';

const [url, key, ttlArg] = process.argv.slice(2);
const ttlSeconds = Number(ttlArg ?? '10');
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function say(code: '0' | '1' | '2' | '3', why = ''): void {
  process.stdout.write(`${code}\n`);
  if (why !== '') process.stderr.write(`lock-etcd-helper: ${why}\n`);
}

async function post(path: string, body: unknown, timeoutMs: number): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

let leaseId: string | undefined;
let ending = false;

async function end(code: number): Promise<never> {
  if (!ending) {
    ending = true;
    if (leaseId !== undefined) await post('/v3/lease/revoke', { ID: leaseId }, 1000).catch(() => undefined); // the TTL ends it anyway
  }
  process.exit(code);
}

async function main(): Promise<void> {
  if (url === undefined || key === undefined || !Number.isInteger(ttlSeconds) || ttlSeconds < 2) {
    say('3', 'usage: lock-etcd-helper http://host:port KEY TTL_SECONDS(>=2)');
    process.exit(3);
  }
  const stepMs = Math.max(500, Math.floor((ttlSeconds * 1000) / 3));
  const grant = await post('/v3/lease/grant', { TTL: ttlSeconds }, stepMs);
  if (typeof grant['ID'] !== 'string' && typeof grant['ID'] !== 'number') throw new Error(`lease grant without ID: ${JSON.stringify(grant)}`);
  leaseId = String(grant['ID']);
  const holder = `${hostname()} pid ${process.ppid}`;
  const txn = await post('/v3/kv/txn', {
    compare: [{ key: b64(key), result: 'EQUAL', target: 'CREATE', create_revision: '0' }],
    success: [{ request_put: { key: b64(key), value: b64(holder), lease: leaseId } }],
  }, stepMs);
  if (txn['succeeded'] !== true) {
    say('1', `${key} is held by another node`);
    return void (await end(1));
  }
  say('0');
  for (;;) {
    await new Promise((r) => setTimeout(r, stepMs));
    if (ending) return;
    let ttlLeft = 0;
    try {
      const ka = await post('/v3/lease/keepalive', { ID: leaseId }, stepMs);
      ttlLeft = Number((ka['result'] as { TTL?: unknown } | undefined)?.TTL ?? 0);
    } catch (err) {
      process.stderr.write(`lock-etcd-helper: keepalive failed: ${(err as Error).message}\n`);
    }
    if (!(ttlLeft > 0)) {
      process.stderr.write('lock-etcd-helper: lease lost\n');
      return void (await end(3));
    }
  }
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void end(0));
process.stdin.on('end', () => void end(0));
process.stdin.on('error', () => void end(0));
process.stdin.resume();
main().catch((err: unknown) => {
  say('3', err instanceof Error ? err.message : String(err));
  void end(3);
});
