#!/bin/bash
# Rounds of `recovery` and `local-shared` in several checkouts, alternating (the order rotates
# each round), and CTDB's recovery of the same count once per round (../shared/peer-ctdb's
# bench.py populate, on a peer cluster already up: ./up.sh --fresh 3). Each checkout must be
# built. The load average is logged before and after every step (load.txt):
#
#   OUT=/tmp/recovery-same-run ROUNDS=3 PORT_BASE=26400 PEER=/work/shared/peer-ctdb \
#     packages/bench/scripts/recovery-same-run.sh NAME=CHECKOUT [NAME=CHECKOUT…]
#
# Checkout i uses ports PORT_BASE + 100·i (recovery) and + 10 (local-shared). Results:
# OUT/rR-NAME-BENCH.json (the --json document) and .log (the human output); OUT/rR-ctdb.log.
# PEER= (empty) skips CTDB.
set -u
OUT=${OUT:-/tmp/recovery-same-run} ROUNDS=${ROUNDS:-3} PORT_BASE=${PORT_BASE:-26400}
PEER=${PEER-/work/shared/peer-ctdb} RECORDS=${RECORDS:-100000}
[ $# -ge 1 ] || { echo "usage: $0 NAME=CHECKOUT…" >&2; exit 2; }
mkdir -p "$OUT"
names=() trees=()
for a in "$@"; do names+=("${a%%=*}"); trees+=("$(cd "${a#*=}" && pwd)"); done
n=${#names[@]}
stamp() { echo "$(date -u +%T) $*; load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/load.txt"; }
for ((r = 0; r < ROUNDS; r++)); do
  for ((k = 0; k < n; k++)); do
    i=$(((k + r) % n))
    for b in recovery local-shared; do
      p=$((PORT_BASE + 100 * i)); [ $b = local-shared ] && p=$((p + 10))
      extra=(); [ $b = recovery ] && extra=(--records "$RECORDS")
      stamp "r$r ${names[$i]} $b start"
      (cd "${trees[$i]}" && npx ctdbng-bench $b "${extra[@]}" --json --port-base $p --base-dir "$OUT/clusters-${names[$i]}" \
        > "$OUT/r$r-${names[$i]}-$b.json" 2> "$OUT/r$r-${names[$i]}-$b.log")
      echo "rc=$?" >> "$OUT/r$r-${names[$i]}-$b.log"
      stamp "r$r ${names[$i]} $b end"
    done
  done
  if [ -n "$PEER" ]; then
    stamp "r$r ctdb start"
    (cd "$PEER" && python3 bench.py populate --count "$RECORDS" --recoveries 1 > "$OUT/r$r-ctdb.log" 2>&1)
    echo "rc=$?" >> "$OUT/r$r-ctdb.log"
    stamp "r$r ctdb end"
  fi
done
# The summary: recovery durations (recoverd's lastRecoveryMs of every timed run) and local-shared.
for name in "${names[@]}"; do
  runs=$(grep -ho 'runs (lastRecoveryDurationMs): [0-9, ]*' "$OUT"/r*-"$name"-recovery.log 2>/dev/null | sed 's/.*: //' | tr ',' '\n' | tr -d ' ' | grep . | sort -n | tr '\n' ' ')
  echo "$name recovery ms (sorted, every run): $runs"
done
[ -n "$PEER" ] && echo "ctdb recovery s: $(grep -ho "Duration of last recovery': [0-9.]*" "$OUT"/r*-ctdb.log | sed 's/.*: //' | sort -n | tr '\n' ' ')"
exit 0
