// A real Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager and CoreDNS,
// started from the binaries `npm run harness:build` makes, on free 127.0.0.1 ports, in a fresh temp dir.
// No kubelet runs: tests create Nodes and Pods and set Pod status themselves, and the controller manager
// turns them into EndpointSlices the real way.
//
// Credentials are client certificates signed by the harness CA (see pki.ts): one admin in system:masters
// and one identity per component, each with its own kubeconfig. More can be minted with mintIdentity()
// or, for a ServiceAccount, serviceAccountKubeconfig() (TokenRequest API).
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { ApiException, CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { createDnsProber } from '../../src/observe/dns.ts';
import { findBinaries } from './binaries.ts';
import type { BinaryPaths } from './binaries.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { createCa, issueClientCert, issueServingCert } from './pki.ts';
import type { Pki } from './pki.ts';
import { trackUntilStopped } from './cleanup.ts';
import { commandOf, isAlive, killRecordedProcesses, reapOrphans, recordFile, removeRecord, writeRecord } from './instances.ts';
import type { InstanceRecord } from './instances.ts';
import { phaseTimer, signalGroup, sleep, startProcess, stopProcess, waitUntilReady } from './processes.ts';
import type { ManagedProcess } from './processes.ts';

export const CLUSTER_DOMAIN = 'cluster.local';
export const SERVICE_CIDR = '10.96.0.0/12';
/** kubeadm puts kube-dns at the tenth address of the service range. */
export const DNS_SERVICE_IP = '10.96.0.10';
/** The address a QEMU guest (user networking, guestfwd) uses to reach the apiserver; also the advertised address. */
export const VM_APISERVER_ADDRESS = '10.0.2.100';

/** Controllers the harness needs; node lifecycle and pod GC stay off, since no kubelet ever reports. */
export const DEFAULT_CONTROLLERS = [
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
];

export interface Identity {
  user: string;
  groups: string[];
  cert: string;
  key: string;
  /** kubeconfig for this identity, server https://127.0.0.1:<port> */
  kubeconfig: string;
}

/** Everything about a running control plane as plain data (it is also written to `<dir>/info.json`). */
export interface ControlPlaneInfo {
  dir: string;
  ownerPid: number;
  kubernetesVersion: string;
  apiserverUrl: string;
  apiserverPort: number;
  /** admin kubeconfig (system:masters) */
  kubeconfig: string;
  caCert: string;
  caKey: string;
  dns: { host: string; port: number };
  clusterDomain: string;
  serviceCIDR: string;
  dnsServiceIP: string;
  vmApiserverAddress: string;
  identities: Record<string, Identity>;
  processes: { name: string; pid: number; command: string[]; logFile: string }[];
  binaries: BinaryPaths;
  /** milliseconds per startup phase, and `total` */
  timings: Record<string, number>;
}

export interface ControlPlane extends ControlPlaneInfo {
  /** Stops every process (SIGTERM, then SIGKILL) and removes the temp dir unless `keep`; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * What a control plane for kubelet nodes adds (see nodes/cluster.ts): the apiserver reaches each kubelet
 * through an HTTP CONNECT proxy on a unix socket (its egress selector), the node IPAM, lifecycle and
 * workload controllers run, and kube-scheduler places the Pods.
 */
export interface NodeClusterOptions {
  /** unix socket of the CONNECT proxy that maps node addresses to the VMs' forwarded kubelet ports */
  egressSocket: string;
  /** pod network the node IPAM controller hands /24s out of */
  clusterCIDR: string;
}

/** The controllers a cluster with real kubelets needs, on top of DEFAULT_CONTROLLERS. */
export const NODE_CLUSTER_CONTROLLERS = [
  'node-ipam-controller',
  'node-lifecycle-controller',
  'deployment-controller',
  'replicaset-controller',
  'daemonset-controller',
  // the headless-pod-dns sample's web Pods
  'statefulset-controller',
  'pod-garbage-collector-controller',
  'ttl-controller',
];

export interface ControlPlaneOptions {
  /** run as the control plane of kubelet nodes */
  nodeCluster?: NodeClusterOptions;
  /** keep the temp dir (logs, certificates, etcd data) after stop() or a failed start */
  keep?: boolean;
  binaries?: BinaryPaths;
  /** per component; default 60 s (the apiserver's first start on a busy 2-core machine takes a while) */
  startTimeoutMs?: number;
  /** grace between SIGTERM and SIGKILL; default 5 s */
  stopTimeoutMs?: number;
  controllers?: string[];
  log?: (line: string) => void;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const binaries = opts.binaries ?? resolveBinaries();
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5_000;
  reapOrphans(log);

  const { began, timings, phase } = phaseTimer();

  const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-harness-'));
  const procs: ManagedProcess[] = [];
  const record: InstanceRecord = { ownerPid: process.pid, dir, keep: opts.keep ?? false, processes: [] };
  const launch = (name: string, command: string[]): ManagedProcess => {
    const proc = startProcess(name, command, path.join(dir, 'logs', `${name}.log`), dir);
    procs.push(proc);
    record.processes.push({ name, pid: proc.pid, bin: command[0]! });
    writeRecord(record);
    return proc;
  };
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      const [etcd, apiserver, ...rest] = procs; // launch order below
      // Clients first, then the apiserver, then its storage.
      await Promise.all(rest.map((p) => stopProcess(p, stopTimeoutMs)));
      if (apiserver) {
        // restartApiserver() (in a jest worker, say) may have replaced it: the on-disk record names the live one.
        const current = readRecord(dir)?.processes.find((p) => p.name === apiserver.name);
        if (current && current.pid !== apiserver.pid) await stopRecordedProcess(current, stopTimeoutMs);
        else await stopProcess(apiserver, stopTimeoutMs);
      }
      if (etcd) await stopProcess(etcd, stopTimeoutMs);
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
      removeRecord(dir);
      untrack(); // only now: until here an exit still kills whatever is left
    })();
    return stopping;
  };
  // Ctrl-C, SIGTERM or an exit while this control plane runs must leave no process behind.
  const untrack = trackUntilStopped({
    stop,
    killNow: () => {
      killRecordedProcesses(readRecord(dir) ?? record); // on disk: it has the pid of a restarted apiserver
      if (!record.keep) rmSync(dir, { recursive: true, force: true });
      removeRecord(dir);
    },
  });

  try {
    for (const sub of ['pki', 'logs', 'etcd', 'kubeconfigs', 'kcm']) mkdirSync(path.join(dir, sub));
    writeRecord(record);
    const ports = await freePorts({
      etcd: 'tcp',
      etcdPeer: 'tcp',
      apiserver: 'tcp',
      controllerManager: 'tcp',
      scheduler: 'tcp',
      dns: 'tcp+udp',
      health: 'tcp',
      ready: 'tcp',
    });
    const apiserverUrl = `https://127.0.0.1:${ports.apiserver}`;
    const credentials = await issueCredentials(dir, apiserverUrl, binaries.openssl!);
    const { pki, identities } = credentials;
    const admin = identities.admin!;
    phase('pki');

    const etcd = launch('etcd', etcdCommand(binaries.etcd!, dir, ports));
    await waitUntilReady(etcd, 'etcd /health', async () => (await httpGet(`http://127.0.0.1:${ports.etcd}/health`)).body.includes('"health":"true"'), startTimeoutMs);
    phase('etcd');

    const tls = { ca: readFileSync(pki.caCert), cert: readFileSync(admin.cert), key: readFileSync(admin.key) };
    const apiserver = launch('kube-apiserver', apiserverCommand(binaries['kube-apiserver']!, dir, ports, credentials, opts.nodeCluster));
    await waitUntilReady(apiserver, 'kube-apiserver /readyz', async () => (await httpGet(`${apiserverUrl}/readyz`, tls)).status === 200, startTimeoutMs);
    const kubernetesVersion = (JSON.parse((await httpGet(`${apiserverUrl}/version`, tls)).body) as { gitVersion: string }).gitVersion;
    phase('kube-apiserver');

    const controllers = opts.controllers ?? (opts.nodeCluster ? [...DEFAULT_CONTROLLERS, ...NODE_CLUSTER_CONTROLLERS] : DEFAULT_CONTROLLERS);
    const controllerManager = launch(
      'kube-controller-manager',
      controllerManagerCommand(binaries['kube-controller-manager']!, dir, ports, credentials, controllers, opts.nodeCluster),
    );
    const scheduler = opts.nodeCluster ? launch('kube-scheduler', schedulerCommand(binaries['kube-scheduler']!, ports, credentials)) : null;

    const kc = new KubeConfig();
    kc.loadFromFile(admin.kubeconfig);
    const corefile = renderCorefile({ dnsPort: ports.dns, healthPort: ports.health, readyPort: ports.ready, kubeconfig: identities.coredns!.kubeconfig });
    await createClusterAddons(kc, corefile);
    const corefilePath = path.join(dir, 'Corefile');
    writeFileSync(corefilePath, corefile);
    const dnsServer = launch('coredns', [binaries.coredns!, '-conf', corefilePath]);

    await Promise.all([
      // The controller manager serves /healthz with a certificate it made itself: not worth verifying on loopback.
      waitUntilReady(controllerManager, 'kube-controller-manager /healthz', async () => (await httpGet(`https://127.0.0.1:${ports.controllerManager}/healthz`, { rejectUnauthorized: false })).status === 200, startTimeoutMs),
      waitForCoreDns(dnsServer, ports, startTimeoutMs),
      scheduler &&
        waitUntilReady(scheduler, 'kube-scheduler /healthz', async () => (await httpGet(`https://127.0.0.1:${ports.scheduler}/healthz`, { rejectUnauthorized: false })).status === 200, startTimeoutMs),
    ]);
    // Pods can only be created once their namespace's default ServiceAccount exists (ServiceAccount admission).
    await waitUntilReady(controllerManager, 'ServiceAccount default/default', () => serviceAccountExists(kc, 'default', 'default'), startTimeoutMs);
    phase('kube-controller-manager+coredns');
    timings.total = Math.round(performance.now() - began);

    const info: ControlPlaneInfo = {
      dir,
      ownerPid: process.pid,
      kubernetesVersion,
      apiserverUrl,
      apiserverPort: ports.apiserver,
      kubeconfig: admin.kubeconfig,
      caCert: pki.caCert,
      caKey: pki.caKey,
      dns: { host: '127.0.0.1', port: ports.dns },
      clusterDomain: CLUSTER_DOMAIN,
      serviceCIDR: SERVICE_CIDR,
      dnsServiceIP: DNS_SERVICE_IP,
      vmApiserverAddress: VM_APISERVER_ADDRESS,
      identities,
      processes: procs.map((p) => ({ name: p.name, pid: p.pid, command: p.command, logFile: p.logFile })),
      binaries,
      timings,
    };
    writeFileSync(path.join(dir, 'info.json'), JSON.stringify(info, null, 2));
    log(
      `netlab harness: control plane ${kubernetesVersion} ready in ${seconds(timings.total)} ` +
        `(${Object.entries(timings).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${seconds(v)}`).join(', ')})`,
    );
    return { ...info, stop };
  } catch (err) {
    await stop();
    if (opts.keep) (err as Error).message += `\n(temp dir kept: ${dir})`;
    throw err;
  }
}

export interface ApiserverRestart {
  /** from SIGTERM until the process was gone and its port free */
  stopMs: number;
  /** from the start of the new process until its /readyz answered 200 */
  readyMs: number;
}

/**
 * Stops the control plane's kube-apiserver for real (SIGTERM to its process group, SIGKILL after
 * `stopTimeoutMs`), runs `whileDown`, then starts the same command on the same port, appending to the same
 * log, and waits for /readyz. Works from any process that has the info (a jest worker): the new pid goes to
 * the on-disk instance record (which stop(), the exit handler and the orphan reaper read), to info.json
 * and to `info` itself, so whatever stops the control plane later stops the new process.
 */
export async function restartApiserver(
  info: ControlPlaneInfo,
  opts: { whileDown?: () => Promise<void>; stopTimeoutMs?: number; startTimeoutMs?: number } = {},
): Promise<ApiserverRestart> {
  const entry = info.processes.find((p) => p.name === 'kube-apiserver');
  const record = readRecord(info.dir);
  const recorded = record?.processes.find((p) => p.name === 'kube-apiserver');
  if (!entry || !record || !recorded) throw new Error(`harness: no kube-apiserver recorded for the control plane in ${info.dir}`);

  const stopping = performance.now();
  await stopRecordedProcess(recorded, opts.stopTimeoutMs ?? 5_000);
  // The new process must bind the very port every kubeconfig names.
  await waitFor(`port ${info.apiserverPort} to be free`, () => portIsFree(info.apiserverPort), 10_000);
  const stopMs = Math.round(performance.now() - stopping);
  let readyMs = 0;

  try {
    await opts.whileDown?.();
  } finally {
    // Even when `whileDown` fails: the suites after this one share the control plane.
    const starting = performance.now();
    const apiserver = startProcess(entry.name, entry.command, entry.logFile, info.dir);
    // Recorded before waiting: if the start fails, the teardown must still kill this process.
    recorded.pid = apiserver.pid;
    writeRecord(record);
    entry.pid = apiserver.pid;
    writeFileSync(path.join(info.dir, 'info.json'), JSON.stringify(info, null, 2));
    const admin = info.identities.admin!;
    const tls = { ca: readFileSync(info.caCert), cert: readFileSync(admin.cert), key: readFileSync(admin.key) };
    await waitUntilReady(apiserver, 'kube-apiserver /readyz', async () => (await httpGet(`${info.apiserverUrl}/readyz`, tls)).status === 200, opts.startTimeoutMs ?? 60_000);
    readyMs = Math.round(performance.now() - starting);
  }
  return { stopMs, readyMs };
}

/** A new client-certificate identity with its kubeconfig, for tests that need another user. */
export async function mintIdentity(info: ControlPlaneInfo, name: string, user: string, groups: string[]): Promise<Identity> {
  const pki: Pki = { dir: path.join(info.dir, 'pki'), openssl: info.binaries.openssl!, caCert: info.caCert, caKey: info.caKey };
  return makeIdentity(pki, info.dir, info.apiserverUrl, name, user, groups);
}

/**
 * A kubeconfig holding a token for ServiceAccount `namespace/name` (created if missing), issued by the
 * TokenRequest API: the credential an in-cluster operator would have.
 */
export async function serviceAccountKubeconfig(
  info: ControlPlaneInfo,
  namespace: string,
  name: string,
  expirationSeconds = 3600,
): Promise<string> {
  const core = adminKubeConfig(info).makeApiClient(CoreV1Api);
  await ignoreConflict(core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } }));
  const request = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds } } });
  const token = request.status?.token;
  if (!token) throw new Error(`harness: TokenRequest for ServiceAccount ${namespace}/${name} returned no token`);
  return writeKubeconfig(path.join(info.dir, 'kubeconfigs', `sa-${namespace}-${name}.kubeconfig`), {
    server: info.apiserverUrl,
    caCertFile: info.caCert,
    userName: `system:serviceaccount:${namespace}:${name}`,
    credential: { token },
  });
}

export function adminKubeConfig(info: ControlPlaneInfo): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfig);
  return kc;
}

export function renderCorefile(p: { dnsPort: number; healthPort: number; readyPort: number; kubeconfig: string; pods?: 'insecure' | 'verified' }): string {
  // kubeadm's Corefile without `forward`, `cache` and `prometheus`: nothing may leave loopback, and a cache
  // would hide changes between a test's steps.
  return `.:${p.dnsPort} {
    bind 127.0.0.1
    errors
    health 127.0.0.1:${p.healthPort}
    ready 127.0.0.1:${p.readyPort}
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        kubeconfig ${p.kubeconfig}
        pods ${p.pods ?? 'insecure'}
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    loadbalance
}
`;
}

export interface ExtraCoreDns {
  dns: { host: string; port: number };
  corefile: string;
  stop(): Promise<void>;
}

/**
 * A second CoreDNS on free loopback ports, watching the same apiserver with CoreDNS's identity, for a
 * Corefile setting the shared one does not have (pods verified). stop() ends it; so does process exit.
 */
export async function startExtraCoreDns(info: ControlPlaneInfo, pods: 'insecure' | 'verified', startTimeoutMs = 60_000): Promise<ExtraCoreDns> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-coredns-'));
  const ports = await freePorts({ dns: 'tcp+udp', health: 'tcp', ready: 'tcp' });
  const corefile = renderCorefile({ dnsPort: ports.dns, healthPort: ports.health, readyPort: ports.ready, kubeconfig: info.identities.coredns!.kubeconfig, pods });
  writeFileSync(path.join(dir, 'Corefile'), corefile);
  const proc = startProcess('coredns', [info.binaries.coredns!, '-conf', path.join(dir, 'Corefile')], path.join(dir, 'coredns.log'), dir);
  const record: InstanceRecord = { ownerPid: process.pid, dir, keep: false, processes: [{ name: 'coredns', pid: proc.pid, bin: info.binaries.coredns! }] };
  writeRecord(record);
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await stopProcess(proc, 5_000);
      rmSync(dir, { recursive: true, force: true });
      removeRecord(dir);
      untrack();
    })();
    return stopping;
  };
  const untrack = trackUntilStopped({
    stop,
    killNow: () => {
      killRecordedProcesses(record);
      rmSync(dir, { recursive: true, force: true });
      removeRecord(dir);
    },
  });
  try {
    await waitForCoreDns(proc, ports, startTimeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }
  return { dns: { host: '127.0.0.1', port: ports.dns }, corefile, stop };
}

/** CoreDNS's /ready, then an answer on its DNS port: /ready can answer before that port is open (the ready plugin serves from setup). */
async function waitForCoreDns(proc: ManagedProcess, ports: { ready: number; dns: number }, timeoutMs: number): Promise<void> {
  await waitUntilReady(proc, 'CoreDNS /ready', async () => (await httpGet(`http://127.0.0.1:${ports.ready}/ready`)).status === 200, timeoutMs);
  const prober = createDnsProber({ timeoutMs: 1000 });
  const question = { name: `kubernetes.default.svc.${CLUSTER_DOMAIN}`, type: 'A' as const };
  const server = { host: '127.0.0.1', port: ports.dns, transport: 'udp' as const };
  await waitUntilReady(proc, 'CoreDNS answering on its DNS port', async () => (await prober.query(question, server)).rcode === 'NOERROR', timeoutMs);
}

type Ports = Record<'etcd' | 'etcdPeer' | 'apiserver' | 'controllerManager' | 'scheduler' | 'dns' | 'health' | 'ready', number>;

interface Credentials {
  pki: Pki;
  serving: { cert: string; key: string };
  serviceAccountKey: { privateKey: string; publicKey: string };
  identities: Record<string, Identity>;
}

/** The CA, the apiserver's serving certificate, the ServiceAccount signing key, and one identity per component. */
async function issueCredentials(dir: string, apiserverUrl: string, openssl: string): Promise<Credentials> {
  const pki = await createCa(path.join(dir, 'pki'), openssl);
  const identity = (name: string, user: string, groups: string[]) => makeIdentity(pki, dir, apiserverUrl, name, user, groups);
  const [serving, admin, controllerManager, kubeProxy, coredns, scheduler, kubeletClient] = await Promise.all([
    issueServingCert(pki, 'kube-apiserver', {
      dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${CLUSTER_DOMAIN}`],
      ips: ['127.0.0.1', VM_APISERVER_ADDRESS, '10.96.0.1'],
    }),
    identity('admin', 'kubernetes-admin', ['system:masters']),
    identity('kube-controller-manager', 'system:kube-controller-manager', []),
    identity('kube-proxy', 'system:kube-proxy', []),
    identity('coredns', 'coredns', []),
    identity('kube-scheduler', 'system:kube-scheduler', []),
    // what the apiserver shows kubelets (exec, logs); kubeadm binds its user to system:kubelet-api-admin
    identity('apiserver-kubelet-client', 'kube-apiserver-kubelet-client', ['system:masters']),
  ]);
  return {
    pki,
    serving,
    serviceAccountKey: writeServiceAccountKeys(dir),
    identities: {
      admin,
      'kube-controller-manager': controllerManager,
      'kube-proxy': kubeProxy,
      coredns,
      'kube-scheduler': scheduler,
      'apiserver-kubelet-client': kubeletClient,
    },
  };
}

function etcdCommand(bin: string, dir: string, ports: Ports): string[] {
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    bin,
    '--name=harness',
    `--data-dir=${path.join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${ports.etcd}`,
    `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=harness=${peer}`,
    '--unsafe-no-fsync', // test data: durability buys nothing and fsync dominates start time
    '--log-level=warn',
  ];
}

function apiserverCommand(bin: string, dir: string, ports: Ports, c: Credentials, nodes?: NodeClusterOptions): string[] {
  const kubeletClient = c.identities['apiserver-kubelet-client']!;
  const forNodes = nodes
    ? [
        `--egress-selector-config-file=${writeEgressSelectorConfig(dir, nodes.egressSocket)}`,
        `--kubelet-client-certificate=${kubeletClient.cert}`,
        `--kubelet-client-key=${kubeletClient.key}`,
        '--kubelet-preferred-address-types=InternalIP',
      ]
    : [];
  return [
    bin,
    `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${ports.apiserver}`,
    // What the `kubernetes` Service's endpoints say: an address a VM reaches through its guestfwd.
    `--advertise-address=${VM_APISERVER_ADDRESS}`,
    `--tls-cert-file=${c.serving.cert}`,
    `--tls-private-key-file=${c.serving.key}`,
    `--client-ca-file=${c.pki.caCert}`,
    `--cert-dir=${path.join(dir, 'pki')}`,
    '--authorization-mode=Node,RBAC',
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    `--service-account-issuer=https://kubernetes.default.svc.${CLUSTER_DOMAIN}`,
    `--service-account-key-file=${c.serviceAccountKey.publicKey}`,
    `--service-account-signing-key-file=${c.serviceAccountKey.privateKey}`,
    '--allow-privileged=true',
    '--profiling=false',
    ...forNodes,
  ];
}

/** The apiserver's connections to nodes (kubelets, pod and service proxies) go through the CONNECT proxy. */
function writeEgressSelectorConfig(dir: string, socket: string): string {
  const file = path.join(dir, 'egress-selector.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: apiserver.k8s.io/v1beta1',
      'kind: EgressSelectorConfiguration',
      'egressSelections:',
      '- name: cluster',
      '  connection:',
      '    proxyProtocol: HTTPConnect',
      '    transport:',
      '      uds:',
      `        udsName: ${socket}`,
      '',
    ].join('\n'),
  );
  return file;
}

/** How kube-controller-manager and kube-scheduler reach the apiserver and serve /healthz: one kubeconfig for all three uses, loopback only. */
function componentFlags(kubeconfig: string, securePort: number): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${securePort}`,
  ];
}

function schedulerCommand(bin: string, ports: Ports, c: Credentials): string[] {
  return [bin, ...componentFlags(c.identities['kube-scheduler']!.kubeconfig, ports.scheduler), '--leader-elect=false'];
}

function controllerManagerCommand(bin: string, dir: string, ports: Ports, c: Credentials, controllers: string[], nodes?: NodeClusterOptions): string[] {
  const kubeconfig = c.identities['kube-controller-manager']!.kubeconfig;
  // each Node gets a /24 of the pod network as its podCIDR, which Flannel's Kubernetes subnet manager uses
  const forNodes = nodes
    ? ['--allocate-node-cidrs=true', `--cluster-cidr=${nodes.clusterCIDR}`, '--node-cidr-mask-size=24', `--service-cluster-ip-range=${SERVICE_CIDR}`]
    : [];
  return [
    bin,
    ...componentFlags(kubeconfig, ports.controllerManager),
    `--cert-dir=${path.join(dir, 'kcm')}`,
    `--controllers=${controllers.join(',')}`,
    '--leader-elect=false',
    // As kubeadm: each controller acts as its own kube-system ServiceAccount, which the bootstrap RBAC
    // roles (system:controller:*) authorize; the manager's own identity may do little more than that.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${c.serviceAccountKey.privateKey}`,
    `--root-ca-file=${c.pki.caCert}`,
    ...forNodes,
  ];
}

function resolveBinaries(): BinaryPaths {
  const found = findBinaries();
  if (!found.ok) throw new Error(`harness: cannot start the control plane: ${found.reason}`);
  return found.paths;
}

async function makeIdentity(pki: Pki, dir: string, server: string, name: string, user: string, groups: string[]): Promise<Identity> {
  const pair = await issueClientCert(pki, name, user, groups);
  const kubeconfig = await writeKubeconfig(path.join(dir, 'kubeconfigs', `${name}.kubeconfig`), {
    server,
    caCertFile: pki.caCert,
    userName: user,
    credential: { certFile: pair.cert, keyFile: pair.key },
  });
  return { user, groups, cert: pair.cert, key: pair.key, kubeconfig };
}

function writeServiceAccountKeys(dir: string): { privateKey: string; publicKey: string } {
  // ECDSA P-256 (ES256) is one of the algorithms the apiserver signs ServiceAccount tokens with.
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const files = { privateKey: path.join(dir, 'pki', 'sa.key'), publicKey: path.join(dir, 'pki', 'sa.pub') };
  writeFileSync(files.privateKey, privateKey, { mode: 0o600 });
  writeFileSync(files.publicKey, publicKey);
  return files;
}

/** What kubeadm installs for DNS: the kube-dns Service at 10.96.0.10, the coredns ConfigMap, and RBAC for CoreDNS. */
async function createClusterAddons(kc: KubeConfig, corefile: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createClusterRole({
    body: {
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'coredns' }],
    },
  });
  await core.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'coredns' }, data: { Corefile: corefile } } });
  await core.createNamespacedService({
    namespace: 'kube-system',
    body: {
      metadata: {
        name: 'kube-dns',
        labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
        annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
      },
      spec: {
        selector: { 'k8s-app': 'kube-dns' },
        clusterIP: DNS_SERVICE_IP,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    },
  });
}

async function serviceAccountExists(kc: KubeConfig, namespace: string, name: string): Promise<boolean> {
  try {
    await kc.makeApiClient(CoreV1Api).readNamespacedServiceAccount({ namespace, name });
    return true;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return false;
    throw err;
  }
}

async function ignoreConflict(request: Promise<unknown>): Promise<void> {
  try {
    await request;
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}

/** The instance record on disk, or null once it is removed. */
function readRecord(dir: string): InstanceRecord | null {
  try {
    return JSON.parse(readFileSync(recordFile(dir), 'utf8')) as InstanceRecord;
  } catch {
    return null;
  }
}

/**
 * stopProcess() for a process known only by its record (another process may have started it): SIGTERM to
 * its group, SIGKILL after `graceMs`, resolves when it is gone. A pid now running another command is left alone.
 */
async function stopRecordedProcess(proc: InstanceRecord['processes'][number], graceMs: number): Promise<void> {
  if (commandOf(proc.pid)?.[0] !== proc.bin) return;
  signalGroup(proc.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(proc.pid) && Date.now() < deadline) await sleep(50);
  signalGroup(proc.pid, 'SIGKILL');
  await waitFor(`${proc.name} (pid ${proc.pid}) to exit after SIGKILL`, async () => !isAlive(proc.pid), 10_000);
}

async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`harness: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

interface HttpResult {
  status: number;
  body: string;
}

function httpGet(url: string, tls: https.RequestOptions = {}): Promise<HttpResult> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(url, { ...tls, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/**
 * Distinct free 127.0.0.1 ports, one per key; 'tcp+udp' ones are free for both (DNS). Every socket stays
 * open until all ports are chosen, so no port is handed out twice.
 */
export async function freePorts<K extends string>(wanted: Record<K, 'tcp' | 'tcp+udp'>): Promise<Record<K, number>> {
  const held: { close(): void }[] = [];
  const ports = {} as Record<K, number>;
  try {
    for (const key of Object.keys(wanted) as K[]) {
      for (;;) {
        const server = net.createServer();
        await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
        held.push(server);
        const port = (server.address() as net.AddressInfo).port;
        if (wanted[key] === 'tcp+udp') {
          const udp = dgram.createSocket('udp4');
          const bound = await new Promise<boolean>((resolve) => {
            udp.once('error', () => resolve(false));
            udp.bind(port, '127.0.0.1', () => resolve(true));
          });
          if (!bound) continue; // taken for UDP: try another
          held.push(udp);
        }
        ports[key] = port;
        break;
      }
    }
    return ports;
  } finally {
    for (const socket of held) socket.close();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
