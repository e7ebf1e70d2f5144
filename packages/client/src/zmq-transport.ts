// The default transport (transport.ts): zeromq.js's Dealer on dbd's ipc client socket.
import { Dealer } from 'zeromq';
import type { Transport } from './transport.js';

export function openZmqTransport(path: string): Transport {
  const socket = new Dealer({ linger: 0 });
  socket.connect(`ipc://${path}`);
  return socket;
}
