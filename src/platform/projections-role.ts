import type { View } from './views.ts';
import type { RunningRole } from './role.ts';

/**
 * Keeps the views up to date with the store's log (rebuilding a view whose version changed).
 * Processes running the same projection take turns, batch by batch (one lock per view).
 */
export function startProjections(views: readonly View[]): RunningRole {
  for (const view of views) view.runner.start();
  return {
    role: 'projections',
    stop: async () => void (await Promise.all(views.map((view) => view.runner.stop()))),
  };
}
