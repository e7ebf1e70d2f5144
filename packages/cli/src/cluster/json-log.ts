// The supervisor's log: one JSON object a line on stderr (log/supervisor.log), with pino's
// field names (level, time, daemon, pnn, msg). Not pino itself: the supervisor must start its
// daemons within milliseconds of `up` (DESIGN §11 speed target), before any heavy import.
export interface JsonLog {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

const levels = { info: 30, warn: 40 } as const;

export function jsonLog(base: Record<string, unknown>, write: (line: string) => void = (l) => void process.stderr.write(l)): JsonLog {
  const emit = (level: keyof typeof levels, fields: Record<string, unknown>, msg: string): void => {
    write(`${JSON.stringify({ level: levels[level], time: Date.now(), ...base, ...fields, msg })}\n`);
  };
  return { info: (f, m) => emit('info', f, m), warn: (f, m) => emit('warn', f, m) };
}
