// The one enum of error codes (proto/ctdbng/v1/errors.proto), re-exported with names.
import { ctdbng } from './proto.js';

export const ErrorCode = ctdbng.v1.ErrorCode;
export type ErrorCode = ctdbng.v1.ErrorCode;

/** The proto name of a code ("ERR_LOCK_LOST"), or "ERR_<n>" for a code this build does not know. */
export function errorCodeName(code: number): string {
  const name = (ErrorCode as unknown as Record<number, string | undefined>)[code];
  return name ?? `ERR_${code}`;
}

/** Record header flag bits (records.proto RecordFlag). */
export const RecordFlag = {
  MIGRATED_WITH_DATA: ctdbng.v1.RecordFlag.RECORD_FLAG_MIGRATED_WITH_DATA,
  AUTOMATIC: ctdbng.v1.RecordFlag.RECORD_FLAG_AUTOMATIC,
} as const;

export function recordFlagNames(flags: number): string[] {
  const names: string[] = [];
  if (flags & RecordFlag.MIGRATED_WITH_DATA) names.push('MIGRATED_WITH_DATA');
  if (flags & RecordFlag.AUTOMATIC) names.push('AUTOMATIC');
  return names;
}
