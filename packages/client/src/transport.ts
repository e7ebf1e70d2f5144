// How a Connection reaches dbd's client socket (DESIGN §7): a DEALER-like transport that sends one
// frame per message and yields each message received as its frames (nats.js's Transport).
// 'zeromq' is zeromq.js's Dealer (libzmq); 'zmtp' speaks ZMTP 3.0 itself over the ipc socket
// (zmtp-transport.ts), for short-lived processes: it starts without loading libzmq.

export interface Transport extends AsyncIterable<Uint8Array[]> {
  /** Resolves once the frame is handed on; a frame sent before the peer is reachable waits. */
  send(frame: Uint8Array): Promise<void>;
  /** Drops what is unsent and ends the iteration. Idempotent. */
  close(): void;
}

export type TransportKind = 'zeromq' | 'zmtp';

/** Opens a transport to the ipc socket at `path`, loading only the module of its kind. */
export async function openTransport(kind: TransportKind, path: string): Promise<Transport> {
  if (kind === 'zmtp') return (await import('./zmtp-transport.js')).openZmtpTransport(path);
  return (await import('./zmq-transport.js')).openZmqTransport(path);
}
