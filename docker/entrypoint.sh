#!/bin/sh
# ctdbng-entrypoint DAEMON: writes the node's config into $CTDBNG_BASE from the environment
# (NODE_ADDRESS, NODES = addresses in PNN order, optional CLUSTER_LOCK, LOG_LEVEL), then runs
# the daemon in the foreground. The three containers of a node share $CTDBNG_BASE (a volume)
# and the network namespace, so they write the same files.
set -eu
daemon="${1:-dbd}"
case "$daemon" in
  dbd|recoverd|vacuumd) ;;
  ctdbng) shift; exec node /opt/ctdbng/packages/cli/bin/ctdbng.js "$@" ;;
  *) echo "ctdbng-entrypoint: unknown daemon '$daemon' (dbd, recoverd, vacuumd, ctdbng)" >&2; exit 2 ;;
esac
: "${NODE_ADDRESS:?set NODE_ADDRESS to this node's address}"
: "${NODES:?set NODES to every node's address, in PNN order}"
mkdir -p "$CTDBNG_BASE/run" "$CTDBNG_BASE/db"
tmp="$CTDBNG_BASE/.nodes.$daemon.$$"
for a in $NODES; do echo "$a"; done > "$tmp" && mv "$tmp" "$CTDBNG_BASE/nodes"
tmp="$CTDBNG_BASE/.conf.$daemon.$$"
{
  echo "[cluster]"
  echo "node address = $NODE_ADDRESS"
  if [ -n "${CLUSTER_LOCK:-}" ]; then echo "cluster lock = $CLUSTER_LOCK"; fi
  echo "[logging]"
  echo "log level = ${LOG_LEVEL:-info}"
  echo "location = stderr"
} > "$tmp" && mv "$tmp" "$CTDBNG_BASE/ctdbng.conf"
[ -f "$CTDBNG_BASE/ctdbng.tunables" ] || : > "$CTDBNG_BASE/ctdbng.tunables"
# vacuumd's V8 flags: the same as vacuumdNodeArgs in packages/cli/src/cluster/daemons.ts.
if [ "$daemon" = vacuumd ]; then set -- --lite-mode --max-semi-space-size=1 --v8-pool-size=1; else set --; fi
exec node "$@" "/opt/ctdbng/packages/$daemon/dist/shell/main.js"
