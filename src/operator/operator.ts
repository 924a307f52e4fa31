// runOperator wires the parts: informer caches -> work queue -> reconciler -> status and Events, under
// a leader Lease, with /healthz, /readyz and /metrics. Tests call it in-process with their own observers
// (the harness VM's exec channel, the harness CoreDNS); main.ts calls it with the real ones.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { createDnsProber } from '../observe/dns.ts';
import { batchedNodeExec } from '../observe/batched-exec.ts';
import { queuedNodeExec } from '../observe/node-exec-queue.ts';
import { PROBE_LABEL, probeExec } from '../observe/probe-exec.ts';
import { ClusterCache } from './cluster-cache.ts';
import { startHealthServer, type HealthServer } from './http.ts';
import { kubeClient, type KubeClient } from '../kube/client.ts';
import { labKey, readLab, type LabSpec } from './lab.ts';
import { LeaderElector } from './leader.ts';
import { jsonLogger, type Logger } from './log.ts';
import { operatorMetrics, type OperatorMetrics } from './metrics.ts';
import { dnsServersOf, type ObserveOptions, type Observers } from './observe.ts';
import { WorkQueue, type Outcome, type WorkQueueOptions } from './queue.ts';
import { labsPageSource } from './page.ts';
import { Reconciler } from './reconciler.ts';
import { changeMatters } from './relevance.ts';
import { eventRecorder, statusWriter } from './writes.ts';

export interface LeaderElectionConfig {
  leaseName: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** the operator's own namespace: its Lease and its probe pods live there */
  namespace: string;
  /** check only the NetworkLabs of this namespace; default every namespace */
  watchNamespace?: string;
  /** this instance's name in the Lease and in Events; default POD_NAME, else hostname-pid */
  identity?: string;
  /** null: run without election (a single instance) */
  leaderElection?: LeaderElectionConfig | null;
  /** port of /healthz, /readyz, /metrics and the read-only page (/); 0 picks a free one; null serves nothing. Default 8080 */
  metricsPort?: number | null;
  metricsHost?: string;
  /** replaces the default observers (probe pods, DNS to the cluster, /etc/resolv.conf) one by one */
  observers?: Partial<Observers>;
  observeOptions?: ObserveOptions;
  /** commands run at once on one node, across all labs (node-exec-queue.ts); default 2 */
  execsPerNode?: number;
  /** how long the default DNS prober waits for each answer; default 2000 (createDnsProber's) */
  dnsTimeoutMs?: number;
  queue?: Omit<WorkQueueOptions, 'onResult'>;
  convergencePollMs?: number;
  log?: Logger;
  /** replaces the API client (tests count or break requests with it) */
  client?: KubeClient;
}

export interface RunningOperator {
  readonly metrics: OperatorMetrics;
  readonly httpPort: number | null;
  readonly identity: string;
  isLeader(): boolean;
  /** resolves once the caches are filled */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const OUTCOME_LABEL: Record<Outcome['kind'], string> = { ok: 'ok', requeueAfter: 'requeue', transient: 'transient', terminal: 'terminal' };

export async function runOperator(options: OperatorOptions): Promise<RunningOperator> {
  const identity = options.identity ?? process.env.POD_NAME ?? `${os.hostname()}-${process.pid}`;
  const log = (options.log ?? jsonLogger()).with({ instance: identity });
  const client = options.client ?? kubeClient(options.kubeConfig);
  const metrics = operatorMetrics();
  for (const result of Object.values(OUTCOME_LABEL)) metrics.checks.init({ result });
  for (const result of ['written', 'error']) metrics.statusWrites.init({ result });

  let queue: WorkQueue | null = null;
  let reconciler: Reconciler;
  const enqueueAll = () => {
    for (const lab of cache.labs.list()) queue?.add(labKey(lab.metadata.namespace ?? '', lab.metadata.name));
  };

  const cache = new ClusterCache(options.kubeConfig, client, {
    log,
    labNamespace: options.watchNamespace,
    onRestart: (resource) => metrics.informerRestarts.inc({ resource }),
    onClusterChange: (change) => {
      for (const lab of cache.labs.list()) {
        let spec: LabSpec;
        try {
          spec = readLab(lab.view?.object).spec;
        } catch {
          continue; // an invalid lab is re-checked when its spec changes, not on cluster events
        }
        if (!changeMatters(change, spec)) continue;
        const key = labKey(lab.metadata.namespace ?? '', lab.metadata.name);
        reconciler.noteChange(key, change);
        queue?.add(key);
      }
    },
    onLabChange: (verb, namespace, name) => {
      const key = labKey(namespace, name);
      if (verb === 'delete') {
        queue?.forget(key);
        reconciler.forget(key);
      } else queue?.add(key);
    },
  });

  let leading = options.leaderElection === null;
  const observers: Observers = {
    // a check's commands for a node as one exec, which then waits its turn on that node like any other
    nodeExec: batchedNodeExec(
      queuedNodeExec(
        options.observers?.nodeExec ?? probeExec(options.kubeConfig, (node) => cache.podOnNode(options.namespace, node, PROBE_LABEL)),
        options.execsPerNode ?? 2,
      ),
    ),
    dns: options.observers?.dns ?? { prober: createDnsProber({ timeoutMs: options.dnsTimeoutMs }), servers: dnsServersOf },
    resolvConf: options.observers?.resolvConf ?? { namespace: options.namespace, dnsPolicy: 'ClusterFirst', read: () => readFile('/etc/resolv.conf', 'utf8') },
  };
  reconciler = new Reconciler({
    cluster: cache,
    observers,
    writer: statusWriter(client),
    // a check still running when this instance stops leading (the Lease lost, or released on stop) must not
    // write: another instance may lead by then. Seen on slow nodes, where a check outlives the 10 s a stopping
    // queue waits for it.
    mayWrite: () => leading,
    events: eventRecorder(client, identity),
    metrics,
    log,
    observeOptions: {
      ...options.observeOptions,
      onExecError: (node, command, error) => {
        metrics.execErrors.inc({ node, command });
        log.warn('probe command failed', { node, command, error });
        options.observeOptions?.onExecError?.(node, command, error);
      },
    },
    convergencePollMs: options.convergencePollMs,
  });

  const startQueue = () => {
    reconciler.forgetWrites();
    queue = new WorkQueue((key) => reconciler.reconcile(key), {
      ...options.queue,
      onResult: (key, outcome, ms) => {
        metrics.checks.inc({ result: OUTCOME_LABEL[outcome.kind] });
        metrics.checkDuration.observe({}, ms / 1000);
        if (outcome.kind === 'transient') log.warn('lab check failed; will retry', { lab: key, error: outcome.error, durationMs: ms });
        else if (outcome.kind === 'terminal') log.error('lab check cannot succeed until the lab changes', { lab: key, error: outcome.error });
        else log.debug('lab check done', { lab: key, outcome: outcome.kind, durationMs: ms });
      },
    });
    enqueueAll();
  };
  let queueStopping: Promise<void> = Promise.resolve();
  const stopQueue = (): Promise<void> => {
    const stopping = queue;
    queue = null;
    if (stopping !== null) queueStopping = queueStopping.then(() => stopping.stop());
    return queueStopping;
  };

  const elector =
    options.leaderElection === null
      ? null
      : new LeaderElector(client, {
          namespace: options.namespace,
          leaseName: options.leaderElection?.leaseName ?? 'netlab-operator',
          identity,
          leaseDurationMs: options.leaderElection?.leaseDurationMs,
          renewDeadlineMs: options.leaderElection?.renewDeadlineMs,
          retryPeriodMs: options.leaderElection?.retryPeriodMs,
          log,
          onStartedLeading: () => {
            leading = true;
            metrics.isLeader.set({}, 1);
            startQueue();
          },
          onStoppedLeading: () => {
            leading = false;
            metrics.isLeader.set({}, 0);
            void stopQueue();
          },
        });

  let http: HealthServer | null = null;
  const port = options.metricsPort === undefined ? 8080 : options.metricsPort;
  if (port !== null) {
    http = await startHealthServer(
      {
        liveness: () => null,
        readiness: () => cache.notReady(),
        metrics: () => metrics.registry.render(),
      },
      port,
      options.metricsHost,
      labsPageSource(() => reconciler.results()),
    );
  }

  log.info('starting', { namespace: options.namespace, leaderElection: elector !== null, httpPort: http?.port ?? null });
  await cache.start();
  if (elector === null) {
    metrics.isLeader.set({}, 1);
    startQueue();
  } else elector.start();

  let stopped: Promise<void> | null = null;
  return {
    metrics,
    httpPort: http?.port ?? null,
    identity,
    isLeader: () => leading,
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (cache.notReady() !== null) {
        if (Date.now() > deadline) throw new Error(`operator ${identity} not ready after ${timeoutMs} ms: ${cache.notReady()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop() {
      stopped ??= (async () => {
        log.info('stopping');
        await elector?.stop();
        await stopQueue();
        await cache.stop();
        await http?.close();
        log.info('stopped');
      })();
      return stopped;
    },
  };
}
