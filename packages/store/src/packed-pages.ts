// Recovery pages of the records table in the packed layout of proto/ctdbng/v1/recovery.proto
// (DESIGN §5.3.2; packages/protocol/src/packed-records.ts): per record a 24-byte header (key
// length, data length, rsn, dmaster, flags; little-endian), the key, the data.
//
// Pull: SQLite builds the whole page in one statement (group_concat of header || key || data), so
// no row becomes a JavaScript object: crossing into JavaScript once per row costs more than
// SQLite's own work. SQL can format integers only big-endian (printf('%08x') + unhex), so the
// page comes out with big-endian headers and one pass here reverses their bytes in place. The
// same pass checks the key order: the aggregate reads the ordered subquery as a co-routine, in
// its order, but SQLite promises group_concat's order only with ORDER BY inside it, which costs
// a temporary b-tree (about 40 % of the statement); so the statement goes without it and, should
// a page ever come out of order, it is built again with it.
// Push: a prepared multi-row upsert binds views into the page, pushRowsPerStatement rows at once.
import type { Database, Statement } from 'better-sqlite3';
import { comparePackedKeys, packedDataBytes, packedDmaster, packedFlags, packedHeaderBytes, packedKeyBytes, packedRsn } from '@ctdbng/protocol';

export interface PackedPage {
  /** The records, packed; empty when there are none. */
  page: Buffer;
  records: number;
  /** The key of the page's last record (undefined for an empty page). */
  lastKey: Buffer | undefined;
  /** No record after this page. */
  done: boolean;
}

/** Rows bound per INSERT statement of a push (measured: 64 halves the cost of one per row). */
export const pushRowsPerStatement = 64;

// octet_length: bytes also of a value stored as TEXT (length() would count characters).
const rowBytes = `${packedHeaderBytes} + octet_length(key) + octet_length(data)`;
const header = "unhex(printf('%08x%08x%016x%08x%08x', octet_length(key), octet_length(data), rsn, dmaster & 4294967295, flags & 4294967295))";
const columns = 'INSERT INTO records (key, rsn, dmaster, flags, data) VALUES ';
const upsert = ' ON CONFLICT (key) DO UPDATE SET rsn = excluded.rsn, dmaster = excluded.dmaster, flags = excluded.flags, data = excluded.data';

interface Statements {
  /** Rows and bytes of the next `limit` records: whether the page must stop early. */
  size: Statement<unknown[], { n: number; bytes: number }>;
  /** How many of the next `limit` records fit in `bytes` (only when they do not all fit). */
  fit: Statement<unknown[], number>;
  /** The page itself, in the order the subquery yields (checked), and with ORDER BY (the fallback). */
  pack: Statement<unknown[], PackRow>;
  packOrdered: Statement<unknown[], PackRow>;
}

interface PackRow {
  n: number;
  lastKey: Buffer | null;
  page: Buffer | null;
}

function statements(db: Database, after: boolean): Statements {
  const from = `SELECT key, rsn, dmaster, flags, data FROM records ${after ? 'WHERE key > @after ' : ''}ORDER BY key LIMIT @limit`;
  return {
    size: db.prepare(`SELECT count(*) AS n, coalesce(sum(${rowBytes}), 0) AS bytes FROM (${from})`),
    fit: db.prepare<unknown[], number>(`SELECT count(*) FROM (SELECT sum(${rowBytes}) OVER (ORDER BY key ROWS UNBOUNDED PRECEDING) AS upto FROM (${from})) WHERE upto <= @bytes`).pluck(true),
    pack: db.prepare(`SELECT count(*) AS n, max(key) AS lastKey, CAST(group_concat(${header} || key || data, '') AS BLOB) AS page FROM (${from})`),
    packOrdered: db.prepare(`SELECT count(*) AS n, max(key) AS lastKey, CAST(group_concat(${header} || key || data, '' ORDER BY key) AS BLOB) AS page FROM (${from})`),
  };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function reverse(page: Buffer, at: number, bytes: number): void {
  for (let i = at, j = at + bytes - 1; i < j; i++, j--) {
    const t = page[i]!;
    page[i] = page[j]!;
    page[j] = t;
  }
}

/**
 * Turns the big-endian headers SQLite wrote into the little-endian layout, in place; returns the
 * records seen and whether their keys are strictly ascending.
 */
export function headersToLittleEndian(page: Buffer): { records: number; ascending: boolean } {
  let n = 0;
  let o = 0;
  let last = -1;
  let ascending = true;
  while (o < page.length) {
    reverse(page, o, 4); // key length
    reverse(page, o + 4, 4); // data length
    reverse(page, o + 8, 8); // rsn
    reverse(page, o + 16, 4); // dmaster
    reverse(page, o + 20, 4); // flags
    if (last >= 0 && ascending && comparePackedKeys(page, last, page, o) >= 0) ascending = false;
    last = o;
    o += packedHeaderBytes + packedKeyBytes(page, o) + packedDataBytes(page, o);
    n++;
  }
  if (o !== page.length) throw new Error(`packed page: records end at byte ${o} of ${page.length}`);
  return { records: n, ascending };
}

export class PackedPages {
  // Prepared on first use: a db that is never pulled or pushed (most attaches, a client's handle)
  // does not compile ten statements, one of them a 64-row upsert.
  private firstStmts: Statements | undefined;
  private nextStmts: Statements | undefined;
  private putManyStmt: Statement<unknown[]> | undefined;
  private putOneStmt: Statement<unknown[]> | undefined;
  /** Bind values of putMany, reused. */
  private readonly args: unknown[] = new Array<unknown>(pushRowsPerStatement * 5);

  /** `orderInSql`: always the statement with ORDER BY (tests of the fallback). */
  constructor(private readonly db: Database, private readonly orderInSql = false) {}

  private get first(): Statements {
    return (this.firstStmts ??= statements(this.db, false));
  }

  private get next(): Statements {
    return (this.nextStmts ??= statements(this.db, true));
  }

  private get putMany(): Statement<unknown[]> {
    return (this.putManyStmt ??= this.db.prepare(columns + Array<string>(pushRowsPerStatement).fill('(?, ?, ?, ?, ?)').join(', ') + upsert));
  }

  private get putOne(): Statement<unknown[]> {
    return (this.putOneStmt ??= this.db.prepare(`${columns}(?, ?, ?, ?, ?)${upsert}`));
  }

  /**
   * Every record after `after` (stale copies and tombstones too), in key order: at most
   * `recordsMax` and, past the first, at most `bytesMax` bytes of page.
   */
  page(after: Uint8Array | undefined, recordsMax: number, bytesMax: number): PackedPage {
    const s = after === undefined ? this.first : this.next;
    const params: Record<string, unknown> = after === undefined ? { limit: recordsMax } : { after: asBuffer(after), limit: recordsMax };
    const size = s.size.get(params)!;
    const limit = size.bytes <= bytesMax ? size.n : Math.max(1, s.fit.get({ ...params, bytes: bytesMax })!);
    let r = (this.orderInSql ? s.packOrdered : s.pack).get({ ...params, limit })!;
    let page = r.page ?? Buffer.alloc(0);
    let seen = headersToLittleEndian(page);
    if (!seen.ascending) {
      r = s.packOrdered.get({ ...params, limit })!;
      page = r.page ?? Buffer.alloc(0);
      seen = headersToLittleEndian(page);
    }
    if (seen.records !== r.n || !seen.ascending) throw new Error(`packed page of ${r.n} records holds ${seen.records}${seen.ascending ? '' : ', not in key order'}`);
    return { page, records: r.n, lastKey: r.lastKey ?? undefined, done: size.n < recordsMax && r.n === size.n };
  }

  /** Writes every record of a checked packed page (upsert: a key given twice keeps its last copy). */
  put(page: Uint8Array, records: number): number {
    const b = asBuffer(page);
    const args = this.args;
    let n = 0;
    let bound = 0;
    let o = 0;
    while (o < b.length) {
      const keyStart = o + packedHeaderBytes;
      const dataStart = keyStart + packedKeyBytes(b, o);
      const end = dataStart + packedDataBytes(b, o);
      const j = bound * 5;
      args[j] = b.subarray(keyStart, dataStart);
      args[j + 1] = packedRsn(b, o);
      args[j + 2] = packedDmaster(b, o);
      args[j + 3] = packedFlags(b, o);
      args[j + 4] = b.subarray(dataStart, end);
      o = end;
      n++;
      if (++bound === pushRowsPerStatement) {
        this.putMany.run(args);
        bound = 0;
      }
    }
    for (let i = 0; i < bound; i++) this.putOne.run(args.slice(i * 5, i * 5 + 5));
    if (o !== b.length || n !== records) throw new Error(`packed page of ${records} records holds ${n} (ends at byte ${o} of ${b.length})`);
    return n;
  }
}
