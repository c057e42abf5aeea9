import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DoelpoortError } from '../errors.js';

/** A command takes its arguments and returns the process exit code. */
export type Command = (args: string[]) => Promise<number>;

/** node:util parseArgs, with unknown or malformed options reported as a usage error (exit code 2). */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new DoelpoortError('REQUEST_INVALID', error instanceof Error ? error.message : 'bad arguments');
  }
}

/** A whole number option within bounds, or a usage error naming the option. */
export function intOption(name: string, value: string | undefined, min: number, max: number, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new DoelpoortError('REQUEST_INVALID', `--${name} is required`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new DoelpoortError('REQUEST_INVALID', `--${name} must be a whole number from ${min} to ${max}`);
  return n;
}
