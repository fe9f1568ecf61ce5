/** Stream ids of the aggregates: one stream per aggregate instance. */
export const customerStream = (id: string) => `customer-${id}`;
export const paymentStream = (id: string) => `payment-${id}`;
export const subscriptionStream = (id: string) => `subscription-${id}`;
/** What happens to a workflow besides its steps' own events (an operator's retry). */
export const workflowStream = (id: string) => `workflow-${id}`;
/** A registration's own history: the saga's course as the Registration aggregate's events. */
export const registrationStream = (id: string) => `registration-${id}`;
