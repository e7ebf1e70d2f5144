import { VacuumCore } from '@ctdbng/vacuumd';
import { runSchedule } from './schedule.js';
const hist = new Map<string, number>();
const proto = VacuumCore.prototype as unknown as { armTick: () => void; d: { io: { setTimer: (id: string, ms: number) => void } } };
const orig = proto.armTick;
proto.armTick = function (this: typeof proto) {
  const io = this.d.io; const st = io.setTimer;
  io.setTimer = (id, ms) => { const b = ms <= 10 ? `<=10 frozen=${(this as unknown as {gate:{frozen:boolean}}).gate.frozen}` : ms < 100 ? '<100' : ms < 1000 ? '<1000' : '1000'; hist.set(b, (hist.get(b) ?? 0) + 1); io.setTimer = st; st(id, ms); };
  orig.call(this);
};
for (let s = 2000; s < 2020; s++) runSchedule({ seed: s });
console.log(hist);
