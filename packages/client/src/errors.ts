// Typed errors (STYLE §2): one class per ErrorCode of proto/ctdbng/v1/errors.proto, made by one
// errorFromReply() whose switch ends in assertNever, so a new code does not compile until mapped.
// Classes are written out (not made by a factory) so each is a named type callers can catch.
import { ErrorCode, errorCodeName } from '@ctdbng/protocol';
import { assertNever } from '@ctdbng/common';

/** Every error dbd replies with, and the same conditions found locally (timeout, key size). */
export class CtdbngError extends Error {
  override name = 'CtdbngError';
  readonly codeName: string;
  constructor(readonly code: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.codeName = errorCodeName(code);
  }
}

/** The ipc socket is missing, dbd does not answer the Hello, or the client was closed. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

/** ERR_UNSPECIFIED: An error without a code (a daemon bug). */
export class UnspecifiedError extends CtdbngError {
  override name = 'UnspecifiedError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_UNSPECIFIED, message, options); }
}
/** ERR_BAD_MESSAGE: The frame could not be decoded. */
export class BadMessageError extends CtdbngError {
  override name = 'BadMessageError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_BAD_MESSAGE, message, options); }
}
/** ERR_VERSION: The peer speaks another protocol version. */
export class VersionError extends CtdbngError {
  override name = 'VersionError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_VERSION, message, options); }
}
/** ERR_UNKNOWN_TYPE: The request type is not served. */
export class UnknownTypeError extends CtdbngError {
  override name = 'UnknownTypeError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_UNKNOWN_TYPE, message, options); }
}
/** ERR_TOO_LARGE: The frame exceeds MaxMessageSize. */
export class TooLargeError extends CtdbngError {
  override name = 'TooLargeError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_TOO_LARGE, message, options); }
}
/** ERR_UNKNOWN_DB: No database of this id or name is attached. */
export class UnknownDbError extends CtdbngError {
  override name = 'UnknownDbError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_UNKNOWN_DB, message, options); }
}
/** ERR_KEY_TOO_LARGE: A key longer than 64 KiB, or an empty key. */
export class KeyTooLargeError extends CtdbngError {
  override name = 'KeyTooLargeError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_KEY_TOO_LARGE, message, options); }
}
/** ERR_RECORD_TOO_LARGE: A record larger than 16 MiB. */
export class RecordTooLargeError extends CtdbngError {
  override name = 'RecordTooLargeError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_RECORD_TOO_LARGE, message, options); }
}
/** ERR_LOCK_LOST: The lock token no longer holds the record lock. */
export class LockLostError extends CtdbngError {
  override name = 'LockLostError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_LOCK_LOST, message, options); }
}
/** ERR_WRONG_GENERATION: Stamped with another generation. */
export class WrongGenerationError extends CtdbngError {
  override name = 'WrongGenerationError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_WRONG_GENERATION, message, options); }
}
/** ERR_FROZEN: The database is frozen for recovery. */
export class FrozenError extends CtdbngError {
  override name = 'FrozenError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_FROZEN, message, options); }
}
/** ERR_RECOVERY: Interrupted by a recovery. */
export class RecoveryError extends CtdbngError {
  override name = 'RecoveryError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_RECOVERY, message, options); }
}
/** ERR_TIMEOUT: No reply in time (local deadline or dbd's). */
export class TimeoutError extends CtdbngError {
  override name = 'TimeoutError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_TIMEOUT, message, options); }
}
/** ERR_NOT_FOUND: The named thing does not exist. */
export class NotFoundError extends CtdbngError {
  override name = 'NotFoundError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_NOT_FOUND, message, options); }
}
/** ERR_INVALID_ARGUMENT: A field out of range or of the wrong form. */
export class InvalidArgumentError extends CtdbngError {
  override name = 'InvalidArgumentError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_INVALID_ARGUMENT, message, options); }
}
/** ERR_UNKNOWN_TUNABLE: Not a tunable name. */
export class UnknownTunableError extends CtdbngError {
  override name = 'UnknownTunableError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_UNKNOWN_TUNABLE, message, options); }
}
/** ERR_NODE_UNREACHABLE: The addressed node cannot be reached. */
export class NodeUnreachableError extends CtdbngError {
  override name = 'NodeUnreachableError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_NODE_UNREACHABLE, message, options); }
}
/** ERR_UNKNOWN_NODE: The PNN is not in the nodes file. */
export class UnknownNodeError extends CtdbngError {
  override name = 'UnknownNodeError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_UNKNOWN_NODE, message, options); }
}
/** ERR_DB_CONFLICT: A db_id collision, or a name attached with another kind. */
export class DbConflictError extends CtdbngError {
  override name = 'DbConflictError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_DB_CONFLICT, message, options); }
}
/** ERR_BUSY: A bounded queue is full; try again later. */
export class BusyError extends CtdbngError {
  override name = 'BusyError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_BUSY, message, options); }
}
/** ERR_INACTIVE: The node is not a member, or has no lease. */
export class InactiveError extends CtdbngError {
  override name = 'InactiveError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_INACTIVE, message, options); }
}
/** ERR_SHUTTING_DOWN: The daemon is shutting down. */
export class ShuttingDownError extends CtdbngError {
  override name = 'ShuttingDownError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_SHUTTING_DOWN, message, options); }
}
/** ERR_INTERNAL: An unexpected failure inside the daemon. */
export class InternalError extends CtdbngError {
  override name = 'InternalError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_INTERNAL, message, options); }
}
/** ERR_NODES_MISMATCH: The peer's nodes file differs. */
export class NodesMismatchError extends CtdbngError {
  override name = 'NodesMismatchError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_NODES_MISMATCH, message, options); }
}
/** ERR_STALE_TERM: A recovery control from a deposed leader (lower term). */
export class StaleTermError extends CtdbngError {
  override name = 'StaleTermError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_STALE_TERM, message, options); }
}
/** ERR_BANNED: The node is banned. */
export class BannedError extends CtdbngError {
  override name = 'BannedError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_BANNED, message, options); }
}
/** ERR_STOPPED: The node is stopped. */
export class StoppedError extends CtdbngError {
  override name = 'StoppedError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_STOPPED, message, options); }
}
/** ERR_NOT_LEADER: This recovery daemon is not the leader. */
export class NotLeaderError extends CtdbngError {
  override name = 'NotLeaderError';
  constructor(message: string, options?: ErrorOptions) { super(ErrorCode.ERR_NOT_LEADER, message, options); }
}

/** The typed error for an Error reply. Codes this build does not know become UnspecifiedError. */
export function errorFromReply(code: number, message: string): CtdbngError {
  if (!isKnownCode(code)) return new CtdbngError(code, message);
  return errorFromKnown(code, message);
}

function isKnownCode(code: number): code is ErrorCode {
  return (ErrorCode as unknown as Record<number, string | undefined>)[code] !== undefined;
}

function errorFromKnown(code: ErrorCode, message: string): CtdbngError {
  switch (code) {
    case ErrorCode.ERR_UNSPECIFIED: return new UnspecifiedError(message);
    case ErrorCode.ERR_BAD_MESSAGE: return new BadMessageError(message);
    case ErrorCode.ERR_VERSION: return new VersionError(message);
    case ErrorCode.ERR_UNKNOWN_TYPE: return new UnknownTypeError(message);
    case ErrorCode.ERR_TOO_LARGE: return new TooLargeError(message);
    case ErrorCode.ERR_UNKNOWN_DB: return new UnknownDbError(message);
    case ErrorCode.ERR_KEY_TOO_LARGE: return new KeyTooLargeError(message);
    case ErrorCode.ERR_RECORD_TOO_LARGE: return new RecordTooLargeError(message);
    case ErrorCode.ERR_LOCK_LOST: return new LockLostError(message);
    case ErrorCode.ERR_WRONG_GENERATION: return new WrongGenerationError(message);
    case ErrorCode.ERR_FROZEN: return new FrozenError(message);
    case ErrorCode.ERR_RECOVERY: return new RecoveryError(message);
    case ErrorCode.ERR_TIMEOUT: return new TimeoutError(message);
    case ErrorCode.ERR_NOT_FOUND: return new NotFoundError(message);
    case ErrorCode.ERR_INVALID_ARGUMENT: return new InvalidArgumentError(message);
    case ErrorCode.ERR_UNKNOWN_TUNABLE: return new UnknownTunableError(message);
    case ErrorCode.ERR_NODE_UNREACHABLE: return new NodeUnreachableError(message);
    case ErrorCode.ERR_UNKNOWN_NODE: return new UnknownNodeError(message);
    case ErrorCode.ERR_DB_CONFLICT: return new DbConflictError(message);
    case ErrorCode.ERR_BUSY: return new BusyError(message);
    case ErrorCode.ERR_INACTIVE: return new InactiveError(message);
    case ErrorCode.ERR_SHUTTING_DOWN: return new ShuttingDownError(message);
    case ErrorCode.ERR_INTERNAL: return new InternalError(message);
    case ErrorCode.ERR_NODES_MISMATCH: return new NodesMismatchError(message);
    case ErrorCode.ERR_STALE_TERM: return new StaleTermError(message);
    case ErrorCode.ERR_BANNED: return new BannedError(message);
    case ErrorCode.ERR_STOPPED: return new StoppedError(message);
    case ErrorCode.ERR_NOT_LEADER: return new NotLeaderError(message);
    default: return assertNever(code, 'error code');
  }
}
