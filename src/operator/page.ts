// The page the operator serves on its HTTP port: the last check of each lab, read-only. Traces use the
// newest snapshot and every node the labs observed; nothing is observed for the page itself.
import type { NodeObservation, Observation } from '../observation/types.ts';
import type { PageSource } from '../web/handler.ts';
import type { PageInput } from '../web/state.ts';
import type { LabCheck } from './reconciler.ts';

export function labsPage(labs: ReadonlyMap<string, LabCheck>): PageInput | { pending: string } {
  const checks = [...labs.entries()].sort(([a], [b]) => a.localeCompare(b));
  if (!checks.length) return { pending: 'no NetworkLab has been checked yet (kubectl get nlab -A)' };
  const newest = checks.reduce((a, b) => (b[1].at > a[1].at ? b : a))[1];
  // each node as the most recent check saw it
  const nodes = new Map<string, { at: number; seen: NodeObservation }>();
  for (const [, check] of checks) {
    for (const seen of check.observation.nodes) {
      const known = nodes.get(seen.node);
      if (!known || known.at < check.at) nodes.set(seen.node, { at: check.at, seen });
    }
  }
  const observation: Observation = { ...newest.observation, nodes: [...nodes.values()].map((n) => n.seen) };
  return {
    origin: `operator: the last check of ${checks.length} NetworkLab${checks.length === 1 ? '' : 's'}`,
    snapshot: newest.snapshot,
    observation,
    labs: checks.map(([key, check]) => ({ name: `NetworkLab ${key}`, report: check.report, conditions: check.conditions })),
    computedAt: new Date(newest.at).toISOString(),
  };
}

/** A PageSource over the reconciler's results that rebuilds its input only when they change. */
export function labsPageSource(results: () => { version: number; labs: ReadonlyMap<string, LabCheck> }): PageSource {
  let cached: { version: number; input: ReturnType<typeof labsPage> } | null = null;
  return {
    current() {
      const { version, labs } = results();
      if (cached?.version !== version) cached = { version, input: labsPage(labs) };
      return cached.input;
    },
  };
}
