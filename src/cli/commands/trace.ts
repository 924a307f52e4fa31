// `netlab trace --from POD|NODE --to NAME[:PORT]|IP:PORT`: one packet's path, hop by hop, offline on captured
// files or live on the current kubeconfig context (the nodes on the path observed through the probe pods).
import { resolveChecks } from '../../check/check.ts';
import type { NodeObservation, Observation } from '../../observation/types.ts';
import { readObservationDir } from '../../observe/files.ts';
import { observeLab } from '../../operator/observe.ts';
import { renderTrace } from '../../report/trace.ts';
import { loadSnapshotDir } from '../../snapshot/load.ts';
import { fetchSnapshot } from '../../snapshot/from-api.ts';
import type { ClusterSnapshot, Protocol } from '../../snapshot/types.ts';
import { traceFlow } from '../../trace/trace.ts';
import { type Trace, TraceError, type TraceRequest } from '../../trace/types.ts';
import { EXIT, jsonText, UsageError } from '../io.ts';
import { connect, observers, probePods } from './live.ts';

export interface TraceOptions {
  from: string;
  to: string;
  protocol?: Protocol;
  endpoint?: string;
  snapshot?: string;
  observed?: string;
  namespace: string;
  dnsPolicy: string;
  kubeconfig?: string;
  json?: boolean;
  explain: boolean;
}

/** Rounds of "trace, observe the nodes the path visits, trace again" before the path is taken as it is. */
const LIVE_ROUNDS = 3;

function traced(snapshot: ClusterSnapshot, observation: Observation | null, request: TraceRequest): Trace {
  try {
    return traceFlow(snapshot, observation, request);
  } catch (error) {
    if (error instanceof TraceError) throw new UsageError(error.message);
    throw error;
  }
}

/** The nodes whose tables a trace read. */
export function nodesOnPath(trace: Trace): string[] {
  return [...new Set(trace.hops.filter((h) => h.kind === 'route' || h.kind === 'service').map((h) => h.node!))];
}

/**
 * Traces with the nodes on the path observed: trace, observe the nodes the path reads that were not observed
 * yet, trace again; the observed path can turn to another node (a route to elsewhere), so up to LIVE_ROUNDS times.
 */
export async function traceObserving(snapshot: ClusterSnapshot, request: TraceRequest, observeNodes: (nodes: string[]) => Promise<NodeObservation[]>): Promise<Trace> {
  const observation: Observation = { nodes: [] };
  let trace = traced(snapshot, null, request);
  for (let round = 0; round < LIVE_ROUNDS; round++) {
    const seen = new Set(observation.nodes.map((n) => n.node));
    const unseen = nodesOnPath(trace).filter((n) => !seen.has(n));
    if (!unseen.length) break;
    observation.nodes.push(...(await observeNodes(unseen)));
    trace = traced(snapshot, observation, request);
  }
  return trace;
}

async function liveTrace(opts: TraceOptions, request: TraceRequest): Promise<Trace> {
  const cluster = await connect(opts.kubeconfig);
  const [snapshot, pods] = await Promise.all([fetchSnapshot(cluster.kc), probePods(cluster)]);
  const obs = observers(cluster, pods);
  return traceObserving(snapshot, request, async (nodes) => {
    process.stderr.write(`netlab: observing ${nodes.join(', ')} through the probe pods of ${cluster.server} ...\n`);
    // the routes, and kube-proxy's rules in the mode it is configured with
    return (await observeLab(obs, { snapshot, checks: resolveChecks(['routes', 'services'], snapshot), nodes, dnsQuestions: [] })).observation.nodes;
  });
}

export async function traceCommand(opts: TraceOptions): Promise<number> {
  const request: TraceRequest = { from: opts.from, to: opts.to, ...(opts.protocol ? { protocol: opts.protocol } : {}), ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) };
  let trace: Trace;
  if (opts.snapshot) {
    const snapshot = await loadSnapshotDir(opts.snapshot);
    const observation = opts.observed ? await readObservationDir(opts.observed, { namespace: opts.namespace, dnsPolicy: opts.dnsPolicy }) : null;
    trace = traced(snapshot, observation, request);
  } else {
    if (opts.observed) throw new UsageError('--observed needs --snapshot (offline); without both, trace reads the live cluster');
    trace = await liveTrace(opts, request);
  }
  process.stdout.write(opts.json ? jsonText(trace) : renderTrace(trace, { explain: opts.explain }));
  return trace.hops.some((h) => h.verdict === 'broken') ? EXIT.findings : EXIT.ok;
}
