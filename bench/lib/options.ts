/**
 * Command-line options for the benchmarks, in the style of bench/signaling-relay.ts: an argv
 * flag `--name=value` overrides an environment variable, which overrides the default; bare
 * (non `--`) arguments are joined with commas as one positional list.
 */

export interface BenchOptions {
  /** The value of `--name=…`, if given. */
  flag(name: string): string | undefined;
  /** Bare arguments joined with commas ('' when none). */
  positional: string;
  /** `--name=` ?? env[envName] ?? def. */
  opt(name: string, envName: string, def: string): string;
}

export function benchOptions(argv: string[] = process.argv.slice(2)): BenchOptions {
  const flag = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return {
    flag,
    positional: argv.filter((a) => !a.startsWith('--')).join(','),
    opt: (name, envName, def) => flag(name) ?? process.env[envName] ?? def,
  };
}

/** A number in [min, max], or an error naming the option. */
export function num(s: string, what: string, min: number, max: number): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${what}: expected a number in [${min}, ${max}] (got "${s}")`);
  return n;
}

/** A comma- or space-separated list of integers in [min, max] (even ones only when `even`). */
export function intList(s: string, what: string, min: number, max: number, even = false): number[] {
  const out = s
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((x) => Number(x));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < min || n > max || (even && n % 2 !== 0))) {
    throw new Error(`${what}: expected ${even ? 'even ' : ''}integers between ${min} and ${max}, comma-separated (got "${s}")`);
  }
  return out;
}
