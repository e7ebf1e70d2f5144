// 500 random schedules of the CI seed list, part 4 of 4 (parts 1 and 2 run in
// determinism.test.ts; test/sim/seed-list.ts, schedule-tests.ts).
import { scheduleTests } from './schedule-tests.js';

scheduleTests(3);
