// The parsers of the CTDB peer's scripts, on their real output (../shared/peer-ctdb/results).
import { describe, expect, it } from 'vitest';
import { parseLmasterLines, parsePopulate, parseUpOkAfter, parseUptimeDuration, parseVacuum } from '@ctdbng/bench';

const populate = `## (c) populate a volatile db with 100000 records (value 32 B)
generate backup file: 0.432 s
$ ctl.sh 0 restoredb /tmp/ctdb-peer/big100000.tdb.bak big100000.tdb
restoredb (wipe + push to all 3 nodes): 0.651 s  -> 153686 rec/s
  node 0 local records: 100000
catdb from node 0: 3.457 s, 100000 records
catdb from node 1: 3.441 s, 100000 records
catdb from node 2: 3.449 s, 100000 records
catdb traverse: median 3.449 s
recover #1: 'ctdb recover' returned after 3.022 s; uptime 'Duration of last recovery': 1.125 s (generation 237286916 -> 322555522)
recover #2: 'ctdb recover' returned after 3.054 s; uptime 'Duration of last recovery': 1.013 s (generation 322555522 -> 1011148026)
  after recovery node 0 local records: 100000
  after recovery node 1 local records: 100000
`;

const vacuum = `## (c) vacuuming: 10000-record db, delete 1000 keys, VacuumInterval=10
deletekey loop on node 0: 1000 keys in 7.095 s (7.1 ms/key)
  +  12.5 s after last delete: records per node [9000, 9000, 9000]
purged on all nodes: 12.5 s after the last deletekey, 19.6 s after the first
`;

describe('parsePopulate', () => {
  it('reads restoredb, every catdb and every recovery', () => {
    const p = parsePopulate(populate);
    expect(p.restoredbSec).toBe(0.651);
    expect(p.catdbSec).toEqual([3.457, 3.441, 3.449]);
    expect(p.recoveries).toEqual([{ cliSec: 3.022, durationSec: 1.125 }, { cliSec: 3.054, durationSec: 1.013 }]);
    expect(p.recordsAfter).toEqual([100000, 100000]);
  });
});

describe('parseVacuum', () => {
  it('reads the delete loop and the purge times', () => {
    expect(parseVacuum(vacuum)).toEqual({ deleteSec: 7.095, afterLastSec: 12.5, afterFirstSec: 19.6, gaveUp: false });
  });
  it('a run that gave up has no purge time', () => {
    const p = parseVacuum(vacuum.replace('purged on all', '  gave up after 300 s\npurged on all'));
    expect(p.gaveUp).toBe(true);
    expect(p.afterLastSec).toBeNaN();
  });
});

describe('the other parsers', () => {
  it('up.sh: "OK after"', () => {
    expect(parseUpOkAfter('Cluster of 3 nodes OK after 8.354 s\nNumber of nodes:3')).toBe(8.354);
    expect(parseUpOkAfter('Cluster not healthy')).toBeNaN();
  });
  it('ctdb uptime: the duration of the last recovery', () => {
    expect(parseUptimeDuration('Time of last recovery/failover: (000 16:53:31)\nDuration of last recovery/failover: 2.248552 seconds\n')).toBe(2.248552);
  });
  it('ctdbkeys.py lmaster: KEY PNN lines', () => {
    expect(parseLmasterLines('latkey0 2\nlatkey1 0\n\n')).toEqual([{ key: 'latkey0', lmaster: 2 }, { key: 'latkey1', lmaster: 0 }]);
  });
});
