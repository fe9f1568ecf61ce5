import type { Role } from '../kernel/config.ts';

/** A role this process runs, started; `stop` finishes the work in hand. */
export interface RunningRole {
  role: Role;
  stop(): Promise<void>;
}
