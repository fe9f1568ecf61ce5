import { describe, expect, it } from 'vitest';
import { parseSimulateOptions, SimulateOptionsError } from './simulate-options.ts';

const parse = (args: string[], token: string | null = 'env-admin-token-0123456789') =>
  parseSimulateOptions(
    args,
    () => token ?? undefined,
    () => 99,
  );

describe('tributary simulate options', () => {
  it('has defaults, and takes the admin token from the environment unless given', () => {
    expect(parse([])).toEqual({
      url: 'http://127.0.0.1:3000/',
      adminToken: 'env-admin-token-0123456789',
      customers: 100,
      months: 3,
      seed: 99,
      concurrency: 8,
    });
    expect(
      parse([
        '--customers',
        '1000',
        '--months',
        '12',
        '--seed',
        '0',
        '--concurrency',
        '16',
        '--url',
        'https://sim.example:8443',
        '--admin-token',
        'given-token',
      ]),
    ).toEqual({
      url: 'https://sim.example:8443/',
      adminToken: 'given-token',
      customers: 1000,
      months: 12,
      seed: 0,
      concurrency: 16,
    });
  });

  it.each([
    [['--customers', 'many'], '--customers must be an integer from 1 to 10000000, not "many"'],
    [['--customers', '0'], '--customers must be an integer from 1 to 10000000, not "0"'],
    [['--months', '1.5'], '--months must be an integer from 1 to 120, not "1.5"'],
    [['--seed=-1'], '--seed must be an integer from 0 to 4294967295, not "-1"'],
    [['--concurrency', '1000'], '--concurrency must be an integer from 1 to 256, not "1000"'],
    [['--url', 'ftp://x'], '--url must be an http(s) URL, not "ftp://x"'],
    [['--url', 'nope'], '--url must be an http(s) URL, not "nope"'],
    [
      ['extra'],
      'unexpected argument: extra (usage: tributary simulate [--customers N] [--months M] [--seed S] [--concurrency C] [--url U] [--admin-token T])',
    ],
  ])('refuses %j', (args, message) => {
    expect(() => parse(args)).toThrow(new SimulateOptionsError(message));
  });

  it('needs an admin token, and lets parseArgs refuse unknown options', () => {
    expect(() => parse([], null)).toThrow('the admin token is needed: --admin-token or ADMIN_TOKEN');
    expect(() => parse(['--frobnicate'])).toThrow(expect.objectContaining({ code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }));
  });
});
