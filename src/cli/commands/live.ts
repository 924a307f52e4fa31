// The live commands: `netlab check --lab NAME | --all` and `netlab explain --node NAME --live` run the same
// pipeline as the operator once, from a workstation, against the current kubeconfig context: the snapshot
// from the API, `route -n` and kube-proxy's rules (`ipvsadm -Ln`, `nft list table ip kube-proxy` or
// `iptables-save`) through the netlab-probe DaemonSet. DNS and resolv.conf are
// checked by the operator from inside the cluster (cluster addresses are not reachable from a workstation).
import { KubeConfig } from '@kubernetes/client-node';
import type { CheckReport } from '../../check/types.ts';
import type { Observation } from '../../observation/types.ts';
import type { Layer } from '../../compare/types.ts';
import { batchedNodeExec } from '../../observe/batched-exec.ts';
import { probeExec, PROBE_LABEL, type ProbePod } from '../../observe/probe-exec.ts';
import { GROUP, PLURAL, readLab, selectorMatches, VERSION, type Lab } from '../../operator/lab.ts';
import { isStatus, KubeApiError, kubeClient, type KubeClient } from '../../kube/client.ts';
import { isNodeLayer } from '../../check/check.ts';
import { checkForLab, labLayers } from '../../operator/reconciler.ts';
import { observeLab, type Observers } from '../../operator/observe.ts';
import { renderReport } from '../../report/text.ts';
import { fetchSnapshot } from '../../snapshot/from-api.ts';
import type { ClusterSnapshot } from '../../snapshot/types.ts';
import { EXIT, jsonText, UsageError } from '../io.ts';
import { exitCodeOf } from './check.ts';

export const PROBE_NAMESPACE = 'netlab-system';
const SKIPPED_NOTE = 'DNS and resolv.conf are not checked from a workstation (cluster addresses are not reachable from here); the operator checks them from inside the cluster: kubectl get nlab';

export interface LiveOptions {
  kubeconfig?: string;
  json?: boolean;
  explain?: boolean;
}

export interface Cluster {
  kc: KubeConfig;
  api: KubeClient;
  server: string;
}

/** Loads the kubeconfig and checks the cluster answers, with a message that says what to do when not. */
export async function connect(path: string | undefined): Promise<Cluster> {
  const kc = new KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (e) {
    throw new UsageError(`cannot load the kubeconfig ${path ?? '(default: $KUBECONFIG or ~/.kube/config)'}: ${(e as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new UsageError(`no cluster: the kubeconfig ${path ?? '(default: $KUBECONFIG or ~/.kube/config)'} has no current context. Create one with \`netlab lab up\`, or pick one with \`kubectl config use-context\`.`);
  }
  const api = kubeClient(kc, 15_000);
  try {
    await api.request('GET', '/version');
  } catch (e) {
    if (!(e instanceof KubeApiError)) throw new UsageError(`no cluster: cannot reach ${cluster.server} (context "${kc.getCurrentContext()}"): ${(e as Error).message}`);
  }
  return { kc, api, server: cluster.server };
}

export async function readLabs(cluster: Cluster, which: { lab?: string; all?: boolean; namespace: string }): Promise<Lab[]> {
  const path = which.all
    ? `/apis/${GROUP}/${VERSION}/${PLURAL}`
    : `/apis/${GROUP}/${VERSION}/namespaces/${which.namespace}/${PLURAL}/${which.lab}`;
  let body: unknown;
  try {
    body = await cluster.api.request('GET', path);
  } catch (e) {
    if (isStatus(e, 404)) {
      const crd = await cluster.api.request('GET', `/apis/${GROUP}/${VERSION}`).then(() => true, () => false);
      if (!crd) throw new UsageError(`no CRD: NetworkLab (${GROUP}/${VERSION}) is not installed in ${cluster.server}. Install netlab with \`kubectl apply -k manifests/\` (or \`netlab lab up\`).`);
      throw new UsageError(`NetworkLab ${which.namespace}/${which.lab} does not exist (kubectl get nlab -A lists the labs)`);
    }
    throw e;
  }
  const items = which.all ? ((body as { items?: unknown[] }).items ?? []) : [body];
  if (items.length === 0) throw new UsageError('no NetworkLabs in the cluster: apply one (manifests/samples/) or run `netlab check` without --lab/--all for the default checks');
  return items.map((raw) => readLab(raw));
}

/** A lab with every default: all layers, all nodes; what `netlab check` runs without --lab or --all. */
export function defaultLab(): Lab {
  return readLab({ apiVersion: `${GROUP}/${VERSION}`, kind: 'NetworkLab', metadata: { namespace: 'default', name: '(default checks)' }, spec: {} });
}

/** The ready probe pod on each node, from the netlab-probe DaemonSet's pods. */
export async function probePods(cluster: Cluster): Promise<Map<string, ProbePod>> {
  const selector = encodeURIComponent(`${PROBE_LABEL.key}=${PROBE_LABEL.value}`);
  const list = (await cluster.api.request('GET', `/api/v1/namespaces/${PROBE_NAMESPACE}/pods?labelSelector=${selector}`)) as {
    items?: { metadata: { name: string }; spec?: { nodeName?: string }; status?: { phase?: string; conditions?: { type: string; status: string }[] } }[];
  };
  const pods = new Map<string, ProbePod>();
  for (const pod of list.items ?? []) {
    const ready = pod.status?.phase === 'Running' && pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (ready && pod.spec?.nodeName) pods.set(pod.spec.nodeName, { namespace: PROBE_NAMESPACE, name: pod.metadata.name });
  }
  if (pods.size === 0) {
    throw new UsageError(`no probe: no ready netlab-probe pod in namespace ${PROBE_NAMESPACE} of ${cluster.server}. Install it with \`kubectl apply -k manifests/\`, then \`kubectl -n ${PROBE_NAMESPACE} get pods -o wide\`.`);
  }
  return pods;
}

/** What a workstation can observe: each node through its probe pod; DNS and resolv.conf are refused. */
export function observers(cluster: Cluster, pods: Map<string, ProbePod>): Observers {
  const unused = (what: string) => () => Promise.reject(new Error(`${what} is not observed from a workstation`));
  return {
    nodeExec: batchedNodeExec(probeExec(cluster.kc, (node) => pods.get(node) ?? null)),
    dns: { prober: { query: unused('DNS') }, servers: () => [] },
    resolvConf: { namespace: 'default', dnsPolicy: 'ClusterFirst', read: unused('resolv.conf') },
  };
}

/** One lab checked through the probe pods: the report, and the observation it was made from. */
export async function checkOneLab(obs: Observers, snapshot: ClusterSnapshot, lab: Lab): Promise<{ report: CheckReport; observation: Observation }> {
  // A workstation observes the layers of the nodes only, through the probe pods.
  const layers = labLayers(lab, snapshot);
  const checks = layers.filter(isNodeLayer);
  const nodes = snapshot.nodes.filter((n) => selectorMatches(lab.spec.nodeSelector, n.labels)).map((n) => n.name);
  const narrowed: Lab = { ...lab, spec: { ...lab.spec, checks } };
  const { observation } = await observeLab(obs, { snapshot, checks, nodes, dnsQuestions: [] }, { nodesInFlight: 4 });
  const report = checkForLab(snapshot, observation, narrowed, nodes);
  for (const layer of layers.filter((l) => !isNodeLayer(l))) report.layers[layer].notes.push(SKIPPED_NOTE);
  return { report, observation };
}

export async function liveCheckCommand(opts: LiveOptions & { lab?: string; all?: boolean; labNamespace: string }): Promise<number> {
  if (opts.lab && opts.all) throw new UsageError('give either --lab NAME or --all, not both');
  const cluster = await connect(opts.kubeconfig);
  const labs = opts.lab || opts.all ? await readLabs(cluster, { lab: opts.lab, all: opts.all, namespace: opts.labNamespace }) : [defaultLab()];
  const [snapshot, pods] = await Promise.all([fetchSnapshot(cluster.kc), probePods(cluster)]);
  const obs = observers(cluster, pods);
  let code: number = EXIT.ok;
  const results: { lab: string; report: CheckReport }[] = [];
  for (const lab of labs) {
    process.stderr.write(`netlab: checking ${lab.key} on ${snapshot.nodes.length} nodes of ${cluster.server} ...\n`);
    const { report } = await checkOneLab(obs, snapshot, lab);
    results.push({ lab: lab.key, report });
    code = Math.max(code, exitCodeOf(report));
  }
  if (opts.json) process.stdout.write(jsonText(results));
  else for (const r of results) process.stdout.write(`### NetworkLab ${r.lab}\n\n${renderReport(r.report, { explain: opts.explain ?? true })}\n`);
  return code;
}

/** `netlab explain --node NAME --format route|ipvsadm --live`: one node's live output, explained and checked. */
export async function liveExplainCommand(opts: LiveOptions & { node: string; format: 'route' | 'ipvsadm' }): Promise<number> {
  const cluster = await connect(opts.kubeconfig);
  const [snapshot, pods] = await Promise.all([fetchSnapshot(cluster.kc), probePods(cluster)]);
  if (!snapshot.nodes.some((n) => n.name === opts.node)) throw new UsageError(`node "${opts.node}" is not in the cluster (it has ${snapshot.nodes.map((n) => n.name).join(', ')})`);
  const layer: Layer = opts.format === 'route' ? 'routes' : 'ipvs';
  const { observation }: { observation: Observation } = await observeLab(observers(cluster, pods), { snapshot, checks: [layer], nodes: [opts.node], dnsQuestions: [] });
  const lab = defaultLab();
  const report = checkForLab(snapshot, observation, { ...lab, spec: { ...lab.spec, checks: [layer] } }, [opts.node]);
  process.stdout.write(renderReport(report, { explain: opts.explain ?? true }));
  return exitCodeOf(report);
}
