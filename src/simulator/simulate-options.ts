import { parseArgs } from 'node:util';

export interface SimulateOptions {
  url: string;
  adminToken: string;
  customers: number;
  months: number;
  seed: number;
  concurrency: number;
}

export const SIMULATE_USAGE =
  'simulate [--customers N] [--months M] [--seed S] [--concurrency C] [--url U] [--admin-token T]';

/** The options are wrong: a one-line message for the operator. */
export class SimulateOptionsError extends Error {
  override readonly name = 'SimulateOptionsError';
}

const integer = (name: string, value: string | undefined, fallback: number, min: number, max: number): number => {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || number < min || number > max)
    throw new SimulateOptionsError(`--${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return number;
};

/**
 * `tributary simulate` options. The admin token comes from --admin-token, else `defaultAdminToken`
 * (ADMIN_TOKEN, read only when needed); an unknown option is a parseArgs error (exit 2 too).
 */
export function parseSimulateOptions(
  args: string[],
  defaultAdminToken: () => string | undefined,
  randomSeed: () => number,
): SimulateOptions {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:3000' },
      'admin-token': { type: 'string' },
      customers: { type: 'string' },
      months: { type: 'string' },
      seed: { type: 'string' },
      concurrency: { type: 'string' },
    },
  });
  if (positionals.length)
    throw new SimulateOptionsError(`unexpected argument: ${positionals[0]} (usage: tributary ${SIMULATE_USAGE})`);
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new SimulateOptionsError(`--url must be an http(s) URL, not ${JSON.stringify(values.url)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new SimulateOptionsError(`--url must be an http(s) URL, not ${JSON.stringify(values.url)}`);
  const customers = integer('customers', values.customers, 100, 1, 10_000_000);
  const months = integer('months', values.months, 3, 1, 120);
  const seed = integer('seed', values.seed, NaN, 0, 0xffff_ffff);
  const concurrency = integer('concurrency', values.concurrency, 8, 1, 256);
  const adminToken = values['admin-token'] ?? defaultAdminToken();
  if (!adminToken) throw new SimulateOptionsError('the admin token is needed: --admin-token or ADMIN_TOKEN');
  return {
    url: url.toString(),
    adminToken,
    customers,
    months,
    seed: Number.isNaN(seed) ? randomSeed() : seed,
    concurrency,
  };
}
