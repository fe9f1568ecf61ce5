import { z } from 'zod';

/** The RFC 9457 problem document every route declares for its error answers (OpenAPI). */
export const problem = z
  .object({ type: z.string(), title: z.string(), status: z.int(), detail: z.string().optional() })
  .passthrough();
