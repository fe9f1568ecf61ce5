import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type { paths, components };

/** The platform's public API, typed from its OpenAPI document; the console's session rides on the cookie. */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

/** Fired when the platform answers 401: the console's session ended (expired, or signed out elsewhere). */
export const UNAUTHORIZED_EVENT = 'tributary:unauthorized';
api.use({
  onResponse({ response }) {
    if (response.status === 401) dispatchEvent(new Event(UNAUTHORIZED_EVENT));
    return response;
  },
});

const CUSTOMER_TOKEN = 'tributary.customerToken';
const CUSTOMER = 'tributary.customer';

export interface CustomerSession {
  customerId: string;
  subscriptionId: string;
  registrationId: string;
}

/** The customer's token stays in this tab's session storage, never in a URL. */
export const customerSession = {
  save(token: string, session: CustomerSession): void {
    sessionStorage.setItem(CUSTOMER_TOKEN, token);
    sessionStorage.setItem(CUSTOMER, JSON.stringify(session));
  },
  token: (): string | null => sessionStorage.getItem(CUSTOMER_TOKEN),
  get(): CustomerSession | null {
    const raw = sessionStorage.getItem(CUSTOMER);
    return raw ? (JSON.parse(raw) as CustomerSession) : null;
  },
  clear(): void {
    sessionStorage.removeItem(CUSTOMER_TOKEN);
    sessionStorage.removeItem(CUSTOMER);
  },
};

const bearer: Middleware = {
  onRequest({ request }) {
    const token = customerSession.token();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
};

/** The same API as the customer whose token this tab holds. */
export const customerApi = createClient<paths>({ baseUrl: '' });
customerApi.use(bearer);

/** An RFC 9457 problem document as the API answers it. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  field?: string | null;
  [key: string]: unknown;
}

export const problemText = (problem: unknown): string => {
  const p = (problem ?? {}) as Problem;
  return p.detail ?? p.title ?? 'Something went wrong';
};
