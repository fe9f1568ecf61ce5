import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parsePlans, PlanCatalogError, UnknownPlanError, type Plan } from './plan.ts';

/** The catalog shipped with the platform, used when no `PLANS_FILE` is configured. */
export const DEFAULT_PLANS_FILE = fileURLToPath(new URL('./default-plans.json', import.meta.url));

/** The plans customers can subscribe to, in catalog order. Immutable once loaded. */
export class PlanCatalog {
  private readonly byId: ReadonlyMap<string, Plan>;
  private readonly plans: readonly Plan[];

  constructor(plans: readonly Plan[]) {
    this.plans = Object.freeze(plans.map((plan) => Object.freeze({ ...plan })));
    const byId = new Map<string, Plan>();
    for (const plan of this.plans) {
      if (byId.has(plan.id))
        throw new PlanCatalogError('(in memory)', JSON.stringify(plan.id), 'id', 'duplicate plan id');
      byId.set(plan.id, plan);
    }
    this.byId = byId;
  }

  list(): readonly Plan[] {
    return this.plans;
  }

  /** The plan, or undefined when the id is unknown. */
  get(id: string): Plan | undefined {
    return this.byId.get(id);
  }

  /** The plan; an unknown id throws `UnknownPlanError`. */
  require(id: string): Plan {
    const plan = this.byId.get(id);
    if (!plan) throw new UnknownPlanError(id);
    return plan;
  }
}

/**
 * Loads the catalog from a JSON file (`{ "plans": [...] }`), or the default catalog when `source`
 * is undefined or empty. Any problem throws one `PlanCatalogError` naming the file, plan and field.
 */
export async function loadPlans(source?: string): Promise<PlanCatalog> {
  const file = source || DEFAULT_PLANS_FILE;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason =
      code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new PlanCatalogError(file, null, null, `cannot read: ${reason}`, { cause: error });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new PlanCatalogError(file, null, null, `not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return new PlanCatalog(parsePlans(document, file));
}
