import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../kernel/clock.ts';
import type { Database } from '../kernel/db/database.ts';
import type { GatewayCharge } from '../services/payments/gateway/index.ts';
import { chargeViolations, renewalAfterCancellationViolations } from './charge-invariants.ts';
import { intentViolations } from './intent-invariants.ts';
import { ledgerViolations } from './ledger-invariants.ts';
import { readMoneyFacts } from './money-facts.ts';
import { customerViolations, registrationViolations } from './registration-invariants.ts';
import type { VerifyReport, Violation } from './violation.ts';

export interface VerifyDeps {
  db: Database;
  clock: Clock;
  /** The gateway's own records of every charge (and what was refunded of it). */
  listCharges: () => Promise<GatewayCharge[]>;
  /** How long an intent may stay without an outcome before it counts (the reconciler's window). */
  intentWindowMs: number;
}

export interface VerifyOptions {
  /**
   * Consumers and workflows run asynchronously: a charge a moment old has no invoice yet. Verify
   * judges again (every `pollMs`) until the platform is clean or `settleMs` passed, and reports
   * only what is still broken then. 0 judges once.
   */
  settleMs?: number;
  pollMs?: number;
}

/** Checks every money invariant once. */
export async function checkMoneyInvariants(deps: VerifyDeps): Promise<Violation[]> {
  const facts = await readMoneyFacts(deps.db, deps.listCharges);
  return [
    ...chargeViolations(facts),
    ...renewalAfterCancellationViolations(facts),
    ...(await ledgerViolations(deps.db)),
    ...(await registrationViolations(deps.db)),
    ...(await customerViolations(deps.db)),
    ...(await intentViolations(deps.db, deps.intentWindowMs)),
  ];
}

/** `tributary verify` and `GET /admin/verify`: the money invariants, after the platform settled. */
export async function verifyMoney(deps: VerifyDeps, options: VerifyOptions = {}): Promise<VerifyReport> {
  // A wall-clock deadline on purpose: it bounds how long the caller waits, whatever the platform clock does.
  const deadline = performance.now() + (options.settleMs ?? 0);
  for (;;) {
    const violations = await checkMoneyInvariants(deps);
    if (violations.length === 0 || performance.now() >= deadline) {
      return { ok: violations.length === 0, checkedAt: deps.clock.now().toISOString(), violations };
    }
    await sleep(options.pollMs ?? 250);
  }
}
