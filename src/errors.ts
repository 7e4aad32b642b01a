import { getSystemErrorMap } from 'node:util';

/**
 * Errors with stable codes (after undici's lib/core/errors.js): transports and the admin API
 * match on `code`, never on the message.
 */
export class DialguardError extends Error {
  readonly code: string;
  readonly details: unknown;

  constructor(code: string, message: string, details?: unknown, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DialguardError';
    this.code = code;
    this.details = details;
  }
}

export interface FieldProblem {
  /** JSON pointer-ish path of the field: `/extensions/1001/geofence/allowCidrs/0`. */
  field: string;
  message: string;
}

/** Input that does not fit: names every field at fault. Nothing was applied. */
export class ValidationError extends DialguardError {
  readonly problems: FieldProblem[];

  constructor(problems: FieldProblem[], what = 'policy') {
    const first = problems[0];
    const summary = first ? `${first.field || '/'}: ${first.message}` : 'invalid';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('DG_VALIDATION', `invalid ${what}: ${summary}${more}`, problems);
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** The store could not answer in time (locked by another process, disk full, …). */
export class StoreError extends DialguardError {
  constructor(message: string, options?: ErrorOptions) {
    super('DG_STORE', message, undefined, options);
    this.name = 'StoreError';
  }
}

/** A configuration value that cannot be used. */
export class ConfigError extends DialguardError {
  constructor(message: string, details?: unknown) {
    super('DG_CONFIG', message, details);
    this.name = 'ConfigError';
  }
}

/** No answer could be given before the answer deadline. */
export class DeadlineError extends DialguardError {
  constructor(message: string) {
    super('DG_DEADLINE', message);
    this.name = 'DeadlineError';
  }
}

/** A JSON body or document nested deeper than MAX_JSON_DEPTH: refused before anything walks it. */
export class JsonDepthError extends DialguardError {
  constructor(what: string, maxDepth: number) {
    super('DG_JSON_TOO_DEEP', `${what} is nested more than ${maxDepth} levels deep`);
    this.name = 'JsonDepthError';
  }
}

/** The store was asked to write a number that is not finite or that no field admits (src/bounds.ts); nothing was written. */
export class StoredValueError extends DialguardError {
  constructor(message: string) {
    super('DG_VALUE_OUT_OF_RANGE', message);
    this.name = 'StoredValueError';
  }
}

/**
 * What went wrong underneath, in one line and without a stack: "SQLITE_FULL: database or disk
 * is full", "EADDRINUSE: address already in use" (the system's sentence, without the path or
 * address Node appends: the caller names those). Looks through a DialguardError to its cause.
 */
export function causeText(error: unknown): string {
  const cause = error instanceof DialguardError && error.cause !== undefined ? error.cause : error;
  const { code, errno, message } = (cause ?? {}) as { code?: unknown; errno?: unknown; message?: unknown };
  const system = typeof errno === 'number' ? getSystemErrorMap().get(errno)?.[1] : undefined;
  const text = system ?? (typeof message === 'string' ? message : String(cause));
  return typeof code === 'string' && !text.startsWith(code) ? `${code}: ${text}` : text;
}
