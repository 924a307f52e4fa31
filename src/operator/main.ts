// The operator's entry point: `node src/operator/main.ts [flags]` (the container's ENTRYPOINT).
// Flags win over environment variables, which win over defaults. In a pod it needs no flag at all: the
// in-cluster ServiceAccount, POD_NAMESPACE and POD_NAME come from the Deployment.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parseDuration } from './lab.ts';
import { electionTimingsInOrder } from './leader.ts';
import { jsonLogger, type Level } from './log.ts';
import { runOperator } from './operator.ts';

const HELP = `netlab operator: keeps every NetworkLab's status answering "do the nodes' routes, IPVS tables,
DNS answers and resolv.conf match what the cluster objects say?"

Flags (environment variable in brackets):
  --kubeconfig PATH           kubeconfig to use [KUBECONFIG]; default: in-cluster ServiceAccount, else ~/.kube/config
  --namespace NS              the operator's namespace: leader Lease and netlab-probe pods [POD_NAMESPACE]; default netlab-system
  --watch-namespace NS        check only the NetworkLabs of this namespace [NETLAB_WATCH_NAMESPACE]; default all
  --metrics-port N            port of /healthz, /readyz and /metrics [NETLAB_METRICS_PORT]; default 8080
  --leader-election-id NAME   name of the leader Lease [NETLAB_LEADER_ELECTION_ID]; default netlab-operator
  --no-leader-election        run as the only instance, without a Lease
  --execs-per-node N          execs run at once in one node's probe Pod, across all labs (one exec runs all of a
                              check's commands for the node) [NETLAB_EXECS_PER_NODE]; default 2. Lower it when
                              execs time out on slow nodes; the others wait their turn
  --exec-timeout DURATION     how long one exec in a probe Pod may take, from its start [NETLAB_EXEC_TIMEOUT];
                              default 10s. Raise it for slow nodes (emulated ones need minutes)
  --dns-timeout DURATION      how long to wait for each DNS answer from CoreDNS [NETLAB_DNS_TIMEOUT]; default 2s.
                              A UDP question is sent again at each third of it. Raise it where the
                              operator's own Pod or CoreDNS is starved of CPU
  --leader-elect-lease-duration DURATION
                              how long a standby waits, after the Lease was last renewed, before it takes over
                              [NETLAB_LEADER_ELECT_LEASE_DURATION]; default 15s
  --leader-elect-renew-deadline DURATION
                              how long the leader keeps trying to renew before it stops checking
                              [NETLAB_LEADER_ELECT_RENEW_DEADLINE]; default 10s. Below the lease duration
  --leader-elect-retry-period DURATION
                              how often each instance tries to renew or take the Lease
                              [NETLAB_LEADER_ELECT_RETRY_PERIOD]; default 2s. Below the renew deadline.
                              Raise all three together where the operator's Pods are starved of CPU
  --log-level LEVEL           debug, info, warn or error [NETLAB_LOG_LEVEL]; default info
  --help                      this text
`;

function fail(message: string): never {
  process.stderr.write(`netlab operator: ${message}\n\n${HELP}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        'watch-namespace': { type: 'string' },
        'metrics-port': { type: 'string' },
        'leader-election-id': { type: 'string' },
        'no-leader-election': { type: 'boolean', default: false },
        'execs-per-node': { type: 'string' },
        'exec-timeout': { type: 'string' },
        'dns-timeout': { type: 'string' },
        'leader-elect-lease-duration': { type: 'string' },
        'leader-elect-renew-deadline': { type: 'string' },
        'leader-elect-retry-period': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
  } catch (error) {
    fail((error as Error).message);
  }
})();

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const level = (values['log-level'] ?? process.env.NETLAB_LOG_LEVEL ?? 'info') as Level;
if (!['debug', 'info', 'warn', 'error'].includes(level)) fail(`--log-level must be debug, info, warn or error, got ${JSON.stringify(level)}`);
const portText = values['metrics-port'] ?? process.env.NETLAB_METRICS_PORT ?? '8080';
const metricsPort = Number(portText);
if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) fail(`--metrics-port must be a port number, got ${JSON.stringify(portText)}`);

const execsText = values['execs-per-node'] ?? process.env.NETLAB_EXECS_PER_NODE ?? '2';
const execsPerNode = Number(execsText);
if (!Number.isInteger(execsPerNode) || execsPerNode < 1) fail(`--execs-per-node must be a whole number of at least 1, got ${JSON.stringify(execsText)}`);

type DurationFlag = 'exec-timeout' | 'dns-timeout' | 'leader-elect-lease-duration' | 'leader-elect-renew-deadline' | 'leader-elect-retry-period';
/** The flag's value, else its environment variable's, else the default, in milliseconds; exits 2 if it is not a positive duration. */
function duration(flag: DurationFlag, variable: string, fallback: string, examples: string): number {
  const text = values[flag] ?? process.env[variable] ?? fallback;
  const ms = parseDuration(text);
  if (ms === null || ms <= 0) fail(`--${flag} must be a duration such as ${examples}, got ${JSON.stringify(text)}`);
  return ms;
}
const execTimeoutMs = duration('exec-timeout', 'NETLAB_EXEC_TIMEOUT', '10s', '30s or 2m');
const dnsTimeoutMs = duration('dns-timeout', 'NETLAB_DNS_TIMEOUT', '2s', '2s or 30s');
const leaseDurationMs = duration('leader-elect-lease-duration', 'NETLAB_LEADER_ELECT_LEASE_DURATION', '15s', '15s or 1m');
const renewDeadlineMs = duration('leader-elect-renew-deadline', 'NETLAB_LEADER_ELECT_RENEW_DEADLINE', '10s', '10s or 40s');
const retryPeriodMs = duration('leader-elect-retry-period', 'NETLAB_LEADER_ELECT_RETRY_PERIOD', '2s', '2s or 5s');
if (!electionTimingsInOrder({ leaseDurationMs, renewDeadlineMs, retryPeriodMs })) {
  fail(`leader election needs --leader-elect-lease-duration > --leader-elect-renew-deadline > --leader-elect-retry-period, got ${leaseDurationMs / 1000}s, ${renewDeadlineMs / 1000}s, ${retryPeriodMs / 1000}s`);
}

const identity = process.env.POD_NAME ?? `${os.hostname()}-${process.pid}`;
const log = jsonLogger({ level, fields: { instance: identity } });
const kubeConfig = new KubeConfig();
const kubeconfigPath = values.kubeconfig ?? process.env.KUBECONFIG;
try {
  if (kubeconfigPath) kubeConfig.loadFromFile(kubeconfigPath);
  else kubeConfig.loadFromDefault();
} catch (error) {
  fail(`cannot load the kubeconfig ${kubeconfigPath ?? '(default)'}: ${(error as Error).message}`);
}
if (kubeConfig.getCurrentCluster() === null) fail('no cluster: the kubeconfig has no current context and no in-cluster ServiceAccount was found');

// Never crash on a stray rejection: log it; the work queue retries what failed.
process.on('unhandledRejection', (reason) => log.error('unhandled rejection', { error: reason }));

const operator = await runOperator({
  kubeConfig,
  identity,
  namespace: values.namespace ?? process.env.POD_NAMESPACE ?? 'netlab-system',
  watchNamespace: values['watch-namespace'] ?? process.env.NETLAB_WATCH_NAMESPACE,
  leaderElection: values['no-leader-election']
    ? null
    : { leaseName: values['leader-election-id'] ?? process.env.NETLAB_LEADER_ELECTION_ID ?? 'netlab-operator', leaseDurationMs, renewDeadlineMs, retryPeriodMs },
  metricsPort,
  execsPerNode,
  observeOptions: { execTimeoutMs },
  dnsTimeoutMs,
  // runOperator adds the instance field itself
  log: jsonLogger({ level }),
});

let exiting = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (exiting) return;
    exiting = true;
    log.info('shutting down', { signal });
    // Bounded: the kubelet sends SIGKILL after the grace period anyway.
    const timer = setTimeout(() => process.exit(1), 20_000);
    timer.unref();
    operator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  });
}
