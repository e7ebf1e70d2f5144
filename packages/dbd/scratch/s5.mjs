import { Dealer } from 'zeromq';
import { encodeEnvelope, decodeEnvelope } from '@ctdbng/protocol';
let rid = 1;
const d = new Dealer({ linger: 0 }); d.connect(`ipc:///tmp/c2/node.0/run/dbd.sock`);
async function req(body) { const id = rid++; await d.send(encodeEnvelope({ requestId: id, ...body })); const [f] = await d.receive(); const r = decodeEnvelope(f); return r.ok ? r.envelope : r.error; }
await req({ setVnnMap: { vnnmap: { generation: 5, pnns: [0] } } });
await new Promise(r => setTimeout(r, 300));
const a = await req({ attach: { name: 'p.db' } }); const dbId = a.attachReply.db.dbId;
const key = Buffer.from('k');
let t0 = process.hrtime.bigint();
for (let i = 0; i < 5000; i++) await req({ ping: {} });
console.log('ping rtt', Number(process.hrtime.bigint()-t0)/5000/1000, 'us');
t0 = process.hrtime.bigint();
for (let i = 0; i < 5000; i++) { const fl = await req({ fetchLock: { dbId, key } }); await req({ store: { dbId, key, token: fl.fetchLockReply.token, data: Buffer.from('z'), unlock: true } }); }
console.log('lock+store', Number(process.hrtime.bigint()-t0)/5000/1000, 'us');
d.close();
