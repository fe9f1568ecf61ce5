import type { Platform } from '../platform.ts';
import type { VerifyReport } from '../verify/violation.ts';

/** One line per violation, then exit code 1; one line of OK otherwise. */
export function printVerifyReport(report: VerifyReport, write: (line: string) => void): number {
  if (report.ok) {
    write(`OK: every money invariant holds (checked at ${report.checkedAt})`);
    return 0;
  }
  write(`${report.violations.length} violation(s) of the money invariants (checked at ${report.checkedAt}):`);
  for (const violation of report.violations) write(`  ${violation.kind}: ${violation.message}`);
  return 1;
}

/** `tributary verify [--settle MS]`. */
export async function verifyCommand(
  platform: Platform,
  settleMs: number,
  write: (line: string) => void,
): Promise<number> {
  return printVerifyReport(await platform.verify({ settleMs }), write);
}
