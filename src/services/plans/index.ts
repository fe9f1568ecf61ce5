export { DEFAULT_PLANS_FILE, loadPlans, PlanCatalog } from './plan-catalog.ts';
export {
  MAX_PLAN_AMOUNT,
  parsePlans,
  PlanCatalogError,
  planInterval,
  planSchema,
  UnknownPlanError,
  type Plan,
  type PlanInterval,
} from './plan.ts';
