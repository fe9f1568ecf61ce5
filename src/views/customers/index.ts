import type { ViewModule } from '../view-module.ts';

/** The customer read model and the Customer API (filled in next). */
export const customerViewModule: ViewModule = {
  name: 'customers',
  projection: () => ({ name: 'customers', schema: 'customer_view', version: 1, types: [], tables: () => '', apply: async () => {} }),
  routes: () => () => {},
};
