// Reconnection of the daemons' ZeroMQ DEALERs and SUBs (DESIGN §7, §11): a first retry after
// 100 ms, backing off to 200 ms at most. The daemons of a cluster start together in any order,
// so a peer often binds a moment after the first attempts to reach it; with a backoff to 1 s it
// was reached up to a second late, and a leader elected meanwhile recovered without it and
// again a second later (issue 12, start). A peer that stays down costs a refused connect every
// 200 ms.
export const zmqReconnect = { reconnectInterval: 100, reconnectMaxInterval: 200 } as const;
