import cliProgress from 'cli-progress';
import type { Observed, ProgressListener } from './simulation.ts';

const tally = (observed: Observed) =>
  `${observed.registrations} registered, ${observed.declines} declined, ${observed.cancelRequests.now + observed.cancelRequests.atPeriodEnd} cancellations, ${observed.cardsFailing} failing cards`;

/**
 * Progress on stderr: a bar over the simulated days on a terminal; otherwise (a pipe, a CI log)
 * one line per simulated month.
 */
export function progressOnStderr(
  stream: NodeJS.WriteStream = process.stderr,
): ProgressListener & { note(message: string): void; stop(): void } {
  if (!stream.isTTY) {
    return {
      month: (month, months, now, observed) =>
        void stream.write(`month ${month}/${months} (clock ${now.slice(0, 10)}): ${tally(observed)}\n`),
      note: (message) => void stream.write(`${message}\n`),
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'simulating [{bar}] {percentage}% | day {value}/{total} | {clock} | {tally}{note}',
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let note = '';
  return {
    started: (days, startedAt) => bar.start(days, 0, { clock: startedAt.slice(0, 10), tally: '', note }),
    day: (day, now, observed) => bar.update(day, { clock: now.slice(0, 10), tally: tally(observed), note }),
    note: (message) => {
      note = ` | ${message}`;
      bar.update({ note });
    },
    stop: () => bar.stop(),
  };
}
