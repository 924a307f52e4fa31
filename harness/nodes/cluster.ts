// A small real cluster for tests: the harness control plane (with kube-scheduler, the node controllers and
// an egress proxy to the kubelets) and two node VMs, each running containerd, Debian's runc, the kubelet,
// kube-proxy (IPVS mode) and flanneld, joined over a private link between the VMs. CoreDNS runs as Pods
// behind kube-dns 10.96.0.10 and netlab's probe DaemonSet from manifests/ runs on both nodes.
//
// Everything is real but the wiring: the VMs' cluster link is a unix socket between two QEMU processes,
// the apiserver reaches each kubelet through egress-proxy.ts and a QEMU port forward, and images are
// imported from archives (harness/images) instead of pulled. Nothing leaves loopback and the VMs.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1Node, V1Pod } from '@kubernetes/client-node';
import { binDir, cacheDir, CONTROL_PLANE_BINARIES, findBinaries, PROJECT_ROOT } from '../control-plane/binaries.ts';
import { waitFor } from '../control-plane/cluster.ts';
import { adminKubeConfig, DNS_SERVICE_IP, freePorts, mintIdentity, startControlPlane } from '../control-plane/controlplane.ts';
import type { ControlPlane } from '../control-plane/controlplane.ts';
import { writeKubeconfig } from '../control-plane/kubeconfig.ts';
import { phaseTimer } from '../control-plane/processes.ts';
import { startKubeProxy } from '../vm/kube-proxy.ts';
import { startNodeVm } from '../vm/vm.ts';
import type { NodeVm } from '../vm/vm.ts';
import { PAUSE_IMAGE } from '../images/recipes.ts';
import { deployCoreDns, grantFlannel } from './addons.ts';
import { startEgressProxy } from './egress-proxy.ts';
import type { EgressProxy } from './egress-proxy.ts';
import { installNetlab } from './netlab.ts';
import { GUEST_KUBELET_DIR, kubeletConfiguration, NODE_RESOLV_CONF } from './kubelet.ts';

/** Binaries the node VMs run (from `npm run harness:build`), besides the control plane's. */
export const NODE_CLUSTER_BINARIES = ['kube-scheduler', 'kubelet', 'kube-proxy', 'containerd', 'containerd-shim-runc-v2', 'ctr', 'flanneld', 'cni/bridge', 'cni/host-local', 'cni/loopback', 'cni/portmap'];
export const POD_NETWORK = '10.244.0.0/16';
/** The seed's node addresses, on the VMs' private link. */
export const CLUSTER_NODES = [
  { name: 'node-1', address: '10.130.29.80' },
  { name: 'node-2', address: '10.130.29.81' },
] as const;
const NODE_PREFIX_LENGTH = 24;
/** The image archives (harness/images) every node imports into containerd. */
const NODE_IMAGES = ['pause', 'coredns', 'probe'];
/**
 * The pause image the sample labs' Pods run (manifests/samples). The node's own pause binary (built for the
 * sandbox image) is tagged with this name too: the nodes cannot pull, and a pause container does nothing.
 */
const SAMPLES_PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';
const KUBELET_PORT = 10250;
const DNS_RELAY_PORT = 1053;
/** kube-proxy's first sync in a TCG VM that also runs a kubelet: minutes when the host is busy */
export const KUBE_PROXY_SYNC_TIMEOUT_MS = 600_000;

export type FlannelBackend = 'vxlan' | 'host-gw';

export interface NodeClusterOptions {
  /** default vxlan */
  backend?: FlannelBackend;
  /** memory of each node VM; default 2048 MiB */
  memoryMb?: number;
  /** install netlab with `kubectl apply -k manifests/` (harness/nodes/netlab.ts) */
  netlab?: boolean;
  /**
   * more images (harness/images ids, e.g. `operator`) each node imports at boot with its own, before the
   * kubelet starts: into an idle TCG node that is far faster than into a busy one later (importImages)
   */
  bootImages?: string[];
  keep?: boolean;
  log?: (line: string) => void;
}

export interface NodeCluster {
  controlPlane: ControlPlane;
  vms: NodeVm[];
  backend: FlannelBackend;
  /**
   * Where the host asks the cluster's DNS: a UDP port forwarded into node-1, relayed there to the kube-dns
   * Service (10.96.0.10:53), so the question goes through node-1's IPVS to a CoreDNS Pod like a node's would.
   */
  dns: { host: string; port: number };
  /** milliseconds per bring-up phase, and `total` */
  timings: Record<string, number>;
  kubeConfig(): KubeConfig;
  /**
   * builds (or finds cached) these images (harness/images ids) and imports them into every node's containerd,
   * unless imported at boot; resolves to the ids it imported
   */
  importImages(ids: string[]): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startNodeCluster(opts: NodeClusterOptions = {}): Promise<NodeCluster> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const backend = opts.backend ?? 'vxlan';
  const found = findBinaries([...CONTROL_PLANE_BINARIES, ...NODE_CLUSTER_BINARIES]);
  if (!found.ok) throw new Error(`harness: cannot start the node cluster: ${found.reason}`);

  const { began, timings, phase } = phaseTimer((name, sinceStartMs) => log(`netlab harness: ${name} done after ${(sinceStartMs / 1000).toFixed(1)} s`));

  const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-nodes-'));
  const vms: NodeVm[] = [];
  let proxy: EgressProxy | null = null;
  let controlPlane: ControlPlane | null = null;
  const stop = async () => {
    await Promise.all(vms.map((vm) => vm.stop().catch(() => {})));
    await controlPlane?.stop();
    await proxy?.close();
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  };

  try {
    // The operator's image is imported only when its Pods are asked for (bootImages, or importImages later):
    // the scenarios run the operator on the host (netlab.ts), and each import costs every node minutes.
    const bootImages = [...NODE_IMAGES, ...(opts.bootImages ?? [])];
    const imagesDir = await buildImages(bootImages, log);
    phase('images');
    proxy = await startEgressProxy(path.join(dir, 'egress.sock'), log);
    controlPlane = await startControlPlane({
      binaries: found.paths,
      keep: opts.keep,
      log,
      nodeCluster: { egressSocket: proxy.socket, clusterCIDR: POD_NETWORK },
    });
    const cp = controlPlane;
    const kc = adminKubeConfig(cp);
    const flannel = await mintIdentity(cp, 'flannel', 'flannel', []);
    await grantFlannel(kc, flannel.user);
    phase('control plane');

    const wanted: Record<string, 'tcp' | 'tcp+udp'> = { dns: 'tcp' };
    for (const n of CLUSTER_NODES) wanted[n.name] = 'tcp';
    const ports = await freePorts(wanted);
    const kubeletPorts = CLUSTER_NODES.map((n) => ports[n.name]!);
    const kubelet = (hostPort: number) => ({ protocol: 'tcp' as const, hostPort, guestPort: KUBELET_PORT });
    // the host's way to the kube-dns Service: DNS over TCP into node-1, where a relay passes it on (startDnsRelay)
    const dnsForward = { protocol: 'tcp' as const, hostPort: ports.dns!, guestPort: DNS_RELAY_PORT };
    const link = path.join(dir, 'link.sock');
    const boot = (i: number) =>
      startNodeVm({
        nodeName: CLUSTER_NODES[i]!.name,
        apiserverPort: cp.apiserverPort,
        memoryMb: opts.memoryMb ?? 2048,
        keep: opts.keep,
        log,
        node: { link: { socket: link, listen: i === 0, mac: linkMac(CLUSTER_NODES[i]!.address) }, shares: { 'netlab-bin': binDir(), 'netlab-images': imagesDir },
          forwards: i === 0 ? [kubelet(kubeletPorts[i]!), dnsForward] : [kubelet(kubeletPorts[i]!)],
        },
      });
    // the first VM listens on the link socket; the second connects to it, so it starts once the socket exists
    const first = boot(0);
    await waitFor('the cluster link socket', async () => existsSync(link), 60_000);
    const booted = await Promise.allSettled([first, boot(1)]);
    for (const result of booted) if (result.status === 'fulfilled') vms.push(result.value);
    const failed = booted.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    CLUSTER_NODES.forEach((node, i) => proxy!.route(node.address, KUBELET_PORT, kubeletPorts[i]!));
    phase('node VMs booted');

    await Promise.all(
      vms.map(async (vm, i) => {
        const node = CLUSTER_NODES[i]!;
        const kubelet = await mintIdentity(cp, `kubelet-${node.name}`, `system:node:${node.name}`, ['system:nodes']);
        await vm.writeFile(`${GUEST_KUBELET_DIR}/kubeconfig`, await guestKubeconfig(cp, vm, dir, `kubelet-${node.name}`, kubelet), '0600');
        await vm.writeFile(`${GUEST_KUBELET_DIR}/config.yaml`, kubeletConfiguration());
        await vm.writeFile(`${GUEST_KUBELET_DIR}/ca.crt`, readFileSync(cp.caCert, 'utf8'));
        await vm.writeFile('/var/lib/flannel/kubeconfig', await guestKubeconfig(cp, vm, dir, `flannel-${node.name}`, flannel), '0600');
        await vm.writeFile('/etc/resolv.conf', NODE_RESOLV_CONF);
        await runOrExplain(vm, ['/usr/local/sbin/netlab-node-up', node.name, `${node.address}/${NODE_PREFIX_LENGTH}`, ...bootImages.map((i) => `${i}.tar`)], 600_000, log);
        if (opts.netlab) await runOrExplain(vm, ['/opt/netlab/bin/ctr', '--address', '/run/containerd/containerd.sock', '-n', 'k8s.io', 'images', 'tag', '--force', PAUSE_IMAGE, SAMPLES_PAUSE_IMAGE], 60_000);
      }),
    );
    const core = kc.makeApiClient(CoreV1Api);
    const registered = await waitFor(
      'both kubelets to register their Nodes and get a podCIDR',
      async () => {
        const nodes = (await core.listNode()).items;
        return CLUSTER_NODES.every((n) => nodes.some((o) => o.metadata?.name === n.name && o.spec?.podCIDR)) ? nodes : null;
      },
      180_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await guestLogs(vms, '/var/log/kubelet.log')}`);
    });
    log(`netlab harness: Nodes registered: ${registered.map((n) => `${n.metadata?.name} ${n.spec?.podCIDR}`).join(', ')}`);
    phase('kubelets registered');

    // flanneld and kube-proxy start side by side: each only needs its Node registered
    await Promise.all([
      Promise.all(vms.map((vm) => runOrExplain(vm, ['/usr/local/sbin/netlab-flannel-up', vm.nodeName, backend], 300_000, log))),
      // syncPeriod 30s, upstream's default (the harness's own is 10s): each IPVS sync runs dozens of iptables and
      // ipset processes, which a node VM running a kubelet has no CPU to spare for every 10 s
      Promise.all(vms.map((vm) => startKubeProxy(vm, cp, { scheduler: '', syncPeriod: '30s' }, KUBE_PROXY_SYNC_TIMEOUT_MS))),
    ]);
    phase(`flannel (${backend}) and kube-proxy`);

    await waitFor('both Nodes Ready', async () => (await core.listNode()).items.filter(isReady).length === CLUSTER_NODES.length, 240_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await guestLogs(vms, '/var/log/kubelet.log')}`);
    });
    phase('Nodes Ready');

    await deployCoreDns(kc, CLUSTER_NODES.length);
    await waitForPods(core, 'kube-system', 'k8s-app=kube-dns', CLUSTER_NODES.length, vms);
    await startDnsRelay(vms[0]!, CLUSTER_NODES[0].address);
    phase('CoreDNS Pods ready');

    if (opts.netlab) {
      await installNetlab(cp.kubeconfig, log);
      phase('netlab installed');
    }

    timings.total = Math.round(performance.now() - began);
    log(`netlab harness: node cluster (${CLUSTER_NODES.map((n) => n.name).join(', ')}, Flannel ${backend}) ready in ${(timings.total / 1000).toFixed(1)} s`);
    const importImages = async (ids: string[]) => {
      const missing = ids.filter((id) => !bootImages.includes(id));
      if (missing.length === 0) return [];
      await buildImages(missing, log);
      const ctr = ['/opt/netlab/bin/ctr', '--address', '/run/containerd/containerd.sock', '-n', 'k8s.io', 'images', 'import', '--snapshotter', 'overlayfs', '--discard-unpacked-layers', '--local'];
      await Promise.all(vms.map(async (vm) => {
        for (const id of missing) await runOrExplain(vm, [...ctr, `/opt/netlab/images/${id}.tar`], 900_000, log);
      }));
      return missing;
    };
    return { controlPlane: cp, vms, backend, dns: { host: '127.0.0.1', port: ports.dns! }, timings, kubeConfig: () => adminKubeConfig(cp), importImages, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Waits until `count` Pods matching `selector` are Ready; the error shows their state and the kubelets' logs. */
export async function waitForPods(core: CoreV1Api, namespace: string, selector: string, count: number, vms: NodeVm[], timeoutMs = 300_000): Promise<V1Pod[]> {
  let last: V1Pod[] = [];
  return waitFor(
    `${count} ready Pods ${selector} in ${namespace}`,
    async () => {
      last = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
      const ready = last.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length >= count ? ready : null;
    },
    timeoutMs,
  ).catch(async (err: Error) => {
    const states = last.map((p) => `  ${p.metadata?.name} on ${p.spec?.nodeName ?? '-'}: ${p.status?.phase} ${JSON.stringify(p.status?.containerStatuses?.map((c) => c.state))}`).join('\n');
    throw new Error(`${err.message}\n${states}\n${await guestLogs(vms, '/var/log/kubelet.log')}`);
  });
}

/**
 * socat on the node, passing each TCP connection on DNS_RELAY_PORT to the kube-dns Service (DNS over TCP).
 * TCP, not UDP: QEMU's user network keeps one host peer per forwarded UDP port, so with several questions in
 * flight every answer went to the last asker (seen: no answer at all while the operator asked). It asks from
 * the node's cluster-link address: from its default one (QEMU's 10.0.2.15, which every VM has) a CoreDNS Pod
 * on the other node would answer to that node's own 10.0.2.15, and the answer would never come back.
 */
async function startDnsRelay(vm: NodeVm, address: string): Promise<void> {
  await runOrExplain(vm, ['sh', '-c', `setsid socat TCP4-LISTEN:${DNS_RELAY_PORT},fork,reuseaddr TCP4:${DNS_SERVICE_IP}:53,bind=${address} >>/var/log/dns-relay.log 2>&1 </dev/null &`], 10_000);
}

/** A locally administered MAC made of the node's link address (10.130.29.80 → 52:54:0a:82:1d:50). */
function linkMac(address: string): string {
  return ['52', '54', ...address.split('.').map((octet) => Number(octet).toString(16).padStart(2, '0'))].join(':');
}

function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** A kubeconfig for a component inside `vm`: the apiserver at the guestfwd address, certificates embedded. */
async function guestKubeconfig(cp: ControlPlane, vm: NodeVm, dir: string, name: string, identity: { user: string; cert: string; key: string }): Promise<string> {
  const file = await writeKubeconfig(path.join(dir, `${name}.kubeconfig`), {
    server: `https://${vm.apiserverAddress}`,
    caCertFile: cp.caCert,
    userName: identity.user,
    credential: { certFile: identity.cert, keyFile: identity.key },
  });
  return readFileSync(file, 'utf8');
}

async function runOrExplain(vm: NodeVm, argv: string[], timeoutMs: number, log?: (line: string) => void): Promise<void> {
  const result = await vm.run(argv, { timeoutMs });
  if (result.exitCode !== 0) {
    throw new Error(`${argv.join(' ')} failed in VM ${vm.nodeName} (exit ${result.exitCode}):\n${result.stdout}${result.stderr}`);
  }
  for (const line of result.stdout.trim().split('\n')) if (line) log?.(`netlab harness: ${vm.nodeName}: ${line}`);
}

async function guestLogs(vms: NodeVm[], file: string, lines = 25): Promise<string> {
  const parts = await Promise.all(vms.map(async (vm) => `--- ${vm.nodeName}: last lines of ${file}\n${(await vm.run(['tail', '-n', String(lines), file]).catch(() => null))?.stdout ?? '(unreadable)'}`));
  return parts.join('\n');
}

/** Builds (or finds cached) the image archives the nodes import. */
async function buildImages(images: string[], log: (line: string) => void): Promise<string> {
  const script = path.join(PROJECT_ROOT, 'harness', 'images', 'build.ts');
  const child = spawn(process.execPath, [script, ...images], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NETLAB_CACHE_DIR: cacheDir() } });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('exit', resolve));
  if (code !== 0) throw new Error(`${script} failed (exit ${code}):\n${output.trim()}`);
  log(`netlab harness: images: ${output.trim().split('\n').join('; ')}`);
  return path.join(cacheDir(), 'images');
}
