// kube-proxy (IPVS, nftables or iptables mode) inside the node VM, against the harness control plane. The VM plays the Node
// `vm.nodeName`; kube-proxy authenticates as system:kube-proxy (bound to system:node-proxier by the
// default RBAC) through the guestfwd address. Its configuration is also published as ConfigMap
// kube-system/kube-proxy, as kubeadm does, so a snapshot of the cluster shows the settings it runs with.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { outputOf } from '../../src/observe/exec.ts';
import { parseIpvsadm } from '../../src/parse/ipvsadm.ts';
import type { IpvsTable } from '../../src/parse/types.ts';
import { createNode, waitFor } from '../control-plane/cluster.ts';
import type { Clients } from '../control-plane/cluster.ts';
import type { ControlPlaneInfo } from '../control-plane/controlplane.ts';
import { adminKubeConfig } from '../control-plane/controlplane.ts';
import { writeKubeconfig } from '../control-plane/kubeconfig.ts';
import type { NodeVm } from './vm.ts';

const GUEST_KUBECONFIG = '/var/lib/kube-proxy/kubeconfig.conf';
const GUEST_CONFIG = '/var/lib/kube-proxy/config.conf';
const GUEST_LOG = '/var/log/kube-proxy.log';
const GUEST_PIDFILE = '/run/kube-proxy.pid';
const KUBE_PROXY = '/usr/local/bin/kube-proxy';
const CLUSTER_CIDR = '10.244.0.0/16';
const METRICS_URL = 'http://127.0.0.1:10249/metrics';
/** Set at the end of each completed sync; absent or 0 before the first one. */
const LAST_SYNC_METRIC = 'kubeproxy_sync_proxy_rules_last_timestamp_seconds';

export type ProxyMode = 'ipvs' | 'nftables' | 'iptables';

export interface KubeProxySettings {
  /** default ipvs */
  mode?: ProxyMode;
  /** ipvs.scheduler; "" lets kube-proxy choose (rr) */
  scheduler: string;
  /**
   * The mode's syncPeriod, how often kube-proxy resyncs without a change (changes sync at once: minSyncPeriod
   * is 0). In nftables and iptables mode it is not a periodic full resync: wait on the sync metric, not on time.
   * Default 10s: under TCG one sync takes several seconds (dozens of ipset/iptables runs), so a shorter
   * period keeps the guest busy syncing all the time.
   */
  syncPeriod?: string;
  /** nodePortAddresses (CIDRs or the keywords primary, localhost, all); absent: every address */
  nodePortAddresses?: string[];
}

/** The KubeProxyConfiguration the VM's kube-proxy runs with, as YAML. */
export function kubeProxyConfiguration(nodeName: string, settings: KubeProxySettings): string {
  const mode = settings.mode ?? 'ipvs';
  const sync = { syncPeriod: settings.syncPeriod ?? '10s', minSyncPeriod: '0s' };
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode,
    hostnameOverride: nodeName,
    clusterCIDR: CLUSTER_CIDR,
    // Not a listening address: a specific bindAddress overrides the node IP kube-proxy takes from the Node
    // (127.0.0.1 here would make it log "assuming loopback" and use 127.0.0.1 as the node IP).
    bindAddress: '0.0.0.0',
    // The servers it does open, on loopback only: nothing in the guest is served to the outside.
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    clientConnection: { kubeconfig: GUEST_KUBECONFIG },
    // maxPerCore 0: leave nf_conntrack_max alone
    conntrack: { maxPerCore: 0 },
    ipvs: { scheduler: settings.scheduler, ...(mode === 'ipvs' ? sync : {}) },
    ...(mode === 'ipvs' ? {} : { [mode]: sync }),
    ...(settings.nodePortAddresses ? { nodePortAddresses: settings.nodePortAddresses } : {}),
  });
}

/** The Node the VM plays, with its QEMU address as InternalIP (kube-proxy waits for a Node with addresses). */
export async function registerVmNode(c: Clients, vm: NodeVm, podCIDR: string, labels: Record<string, string> = {}): Promise<void> {
  await createNode(c, { name: vm.nodeName, internalIP: vm.guestIP, podCIDRs: [podCIDR], labels });
  const node = await c.core.readNode({ name: vm.nodeName });
  if (!node.status?.addresses?.some((a) => a.type === 'InternalIP' && a.address === vm.guestIP)) {
    throw new Error(`Node ${vm.nodeName} was created without its InternalIP ${vm.guestIP} (status dropped on create?)`);
  }
}

/**
 * Creates or replaces ConfigMap kube-system/kube-proxy (key config.conf), where snapshots read kube-proxy's
 * settings. Nodes start their kube-proxy side by side: when another one created it between our replace and
 * our create (409), replace it after all.
 */
async function publishKubeProxyConfig(core: CoreV1Api, config: string): Promise<void> {
  const body = { metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': config } };
  const replace = () => core.replaceNamespacedConfigMap({ namespace: 'kube-system', name: 'kube-proxy', body });
  try {
    await replace();
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 404)) throw err;
    try {
      await core.createNamespacedConfigMap({ namespace: 'kube-system', body });
    } catch (raced) {
      if (!(raced instanceof ApiException && raced.code === 409)) throw raced;
      await replace();
    }
  }
}

export interface KubeProxyStart {
  config: string;
  /** from starting the process to the end of its first sync (its last-sync metric set) */
  firstSyncMs: number;
}

/**
 * Writes kube-proxy's kubeconfig and configuration into the guest, publishes the configuration, starts
 * kube-proxy in the background and waits for its first sync. A kube-proxy already running is stopped first.
 */
export async function startKubeProxy(vm: NodeVm, info: ControlPlaneInfo, settings: KubeProxySettings, timeoutMs = 120_000): Promise<KubeProxyStart> {
  if (!vm.apiserverAddress) throw new Error(`VM ${vm.nodeName} was started without apiserverPort: kube-proxy could not reach the apiserver`);
  const identity = info.identities['kube-proxy'];
  if (!identity) throw new Error('the control plane has no kube-proxy identity');
  await stopKubeProxy(vm);

  const hostCopy = await writeKubeconfig(path.join(vm.dir, 'kube-proxy.kubeconfig'), {
    server: `https://${vm.apiserverAddress}`,
    caCertFile: info.caCert,
    userName: identity.user,
    credential: { certFile: identity.cert, keyFile: identity.key },
  });
  await vm.writeFile(GUEST_KUBECONFIG, readFileSync(hostCopy, 'utf8'), '0600');
  const config = kubeProxyConfiguration(vm.nodeName, settings);
  await vm.writeFile(GUEST_CONFIG, config);
  await publishKubeProxyConfig(adminKubeConfig(info).makeApiClient(CoreV1Api), config);

  const began = performance.now();
  await outputOf(vm, vm.nodeName, [
    'sh', '-c',
    // setsid: its own session, so it outlives this shell; the agent does not wait for it.
    `setsid ${KUBE_PROXY} --config=${GUEST_CONFIG} --v=2 >>${GUEST_LOG} 2>&1 </dev/null & echo $! >${GUEST_PIDFILE}`,
  ]);
  await waitFor(
    `the first sync of kube-proxy in VM ${vm.nodeName}`,
    async () => {
      if (!(await kubeProxyRunning(vm))) {
        throw new Error(`kube-proxy in VM ${vm.nodeName} exited; last lines of ${GUEST_LOG}:\n${await kubeProxyLog(vm, 30)}`);
      }
      return hasSynced(vm);
    },
    timeoutMs,
  ).catch(async (err: Error) => {
    if (err.message.startsWith('timed out')) err.message += `\nlast lines of ${GUEST_LOG}:\n${await kubeProxyLog(vm, 30)}`;
    throw err;
  });
  return { config, firstSyncMs: Math.round(performance.now() - began) };
}

/** Stops the VM's kube-proxy, if one runs, and waits until it is gone. IPVS keeps what it programmed. */
export async function stopKubeProxy(vm: NodeVm): Promise<void> {
  if (!(await kubeProxyRunning(vm))) return;
  await outputOf(vm, vm.nodeName, ['sh', '-c', `kill $(cat ${GUEST_PIDFILE})`]);
  await waitFor(`kube-proxy in VM ${vm.nodeName} to exit`, async () => !(await kubeProxyRunning(vm)), 15_000);
}

/** Freezes (SIGSTOP) or resumes (SIGCONT) kube-proxy, so a test can change IPVS behind its back and look before it repairs it. */
export async function signalKubeProxy(vm: NodeVm, signal: 'STOP' | 'CONT'): Promise<void> {
  await outputOf(vm, vm.nodeName, ['sh', '-c', `kill -${signal} $(cat ${GUEST_PIDFILE})`]);
}

/** Whether the running kube-proxy finished a sync, from its metrics (it has none before it starts serving them). */
async function hasSynced(vm: NodeVm): Promise<boolean> {
  return (await lastSyncSeconds(vm)) > 0;
}

/** kube-proxy's last completed sync (its metric, in seconds since the epoch); 0 before the first one. */
export async function lastSyncSeconds(vm: NodeVm): Promise<number> {
  const metrics = await vm.run(['wget', '-q', '-O', '-', METRICS_URL]);
  if (metrics.exitCode !== 0) return 0;
  const values = metrics.stdout.split('\n').filter((line) => line.startsWith(LAST_SYNC_METRIC)).map((line) => Number(line.split(' ').at(-1)));
  return Math.max(0, ...values);
}

/** `nft list table ip kube-proxy`, as kube-proxy (nftables mode) left it. */
export async function nftListTable(vm: NodeVm): Promise<string> {
  return outputOf(vm, vm.nodeName, ['nft', 'list', 'table', 'ip', 'kube-proxy']);
}

/** `iptables-save` (every table), as kube-proxy (iptables mode) left it. */
export async function iptablesSave(vm: NodeVm): Promise<string> {
  return outputOf(vm, vm.nodeName, ['iptables-save']);
}

export async function readIpvs(vm: NodeVm): Promise<IpvsTable> {
  return parseIpvsadm(await outputOf(vm, vm.nodeName, ['ipvsadm', '-Ln']), `${vm.nodeName}: ipvsadm -Ln`);
}

export async function kubeProxyLog(vm: NodeVm, lines: number): Promise<string> {
  return (await vm.run(['tail', '-n', String(lines), GUEST_LOG])).stdout;
}

async function kubeProxyRunning(vm: NodeVm): Promise<boolean> {
  // kill -0 also succeeds for a zombie (busybox init reaps it a moment later), hence the state check.
  const result = await vm.run(['sh', '-c', `pid=$(cat ${GUEST_PIDFILE} 2>/dev/null) && kill -0 "$pid" && ! grep -q '^State:.*Z' /proc/$pid/status`]);
  return result.exitCode === 0;
}
