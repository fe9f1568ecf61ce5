import { loadPlans, type Plan } from '../../services/plans/index.ts';

export type PlanLookup = (planId: string) => Promise<Pick<Plan, 'id' | 'name' | 'interval'> | undefined>;

/** The plan catalog (names and intervals for invoices and service periods), loaded on first use. */
export function planLookup(plansFile: string | undefined): PlanLookup {
  let catalog: Promise<Map<string, Plan>> | undefined;
  return async (planId) => {
    catalog ??= loadPlans(plansFile).then(
      (plans) => new Map(plans.list().map((plan) => [plan.id, plan])),
      (error: unknown) => {
        catalog = undefined; // the next event tries again
        throw error;
      },
    );
    return (await catalog).get(planId);
  };
}
