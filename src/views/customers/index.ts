import type { ViewModule } from '../view-module.ts';
import { customerProjection } from './customer-projection.ts';
import { customerQueryRoutes } from './customer-routes.ts';

/** The customer view (`customer_view`) and the Customer API that reads it. */
export const customerViewModule: ViewModule = {
  name: 'customers',
  projection: (deps) => customerProjection(deps),
  routes: (deps) => customerQueryRoutes(deps),
};
