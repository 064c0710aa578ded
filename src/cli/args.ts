/**
 * Shared argument handling of the command line: usage errors (exit code 2), number flags, and parseArgs with
 * messages that name the flag and point at `--help`.
 * @module
 */

/** A wrong flag or value: printed as `rnn-wasm CMD: MESSAGE` and exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A runtime failure with a message for the user (unreadable or malformed file): exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/** Runs parseArgs (strict), turning its errors into {@link UsageError}s that name the flag. */
export function parse<T>(command: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (!err.code?.startsWith('ERR_PARSE_ARGS')) throw e;
    let msg = err.message;
    const m = /'(-[^']*)'/.exec(err.message);
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && m) msg = `unknown flag ${m[1]!.split(' ')[0]}`;
    else if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && m) msg = `flag ${m[1]!.split(' ')[0]} needs a value`;
    else if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') msg = `unexpected argument: ${err.message.replace(/^.*?'/, "'")}`;
    throw new UsageError(`${msg} (see rnn-wasm ${command} --help)`);
  }
}

/** An integer flag value in [min, max]. */
export function int(flag: string, v: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag}: expected an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`}, ` +
      `got '${v}'`);
  }
  return n;
}

/** A number flag value satisfying `ok`. */
export function num(flag: string, v: string | undefined, what: string, ok: (n: number) => boolean): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || !ok(n)) {
    throw new UsageError(`--${flag}: expected ${what}, got '${v}'`);
  }
  return n;
}

/** One of a fixed set of values. */
export function choice<T extends string>(flag: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${flag}: expected one of ${allowed.join(', ')}, got '${v}'`);
  }
  return v as T;
}

/** A comma-separated list flag. */
export function list(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Prints a number with full float32 precision but no trailing noise. */
export const fmt = (x: number): string => (Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(4));
