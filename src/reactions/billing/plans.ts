import type { PlanInfo, ReactionDeps } from '../reaction-module.ts';

export type PlanLookup = (planId: string) => Promise<PlanInfo | undefined>;

/** Names and intervals for invoices and service periods, from the platform's plan catalog. */
export const planLookup =
  (plans: ReactionDeps['plans']): PlanLookup =>
  async (planId) =>
    plans.get(planId);
