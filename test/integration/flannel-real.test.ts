// Real flanneld v0.28.10 (the harness build) against the real kube-apiserver, one flanneld per node, each in a
// network namespace made by this test that stands for that node (its uplink eth0 is a veth holding the node's
// address). flanneld's Kubernetes subnet manager annotates the Nodes and programs the routes; the real CNI
// bridge + host-local plugins wire one pod on node 1 the way flannel's CNI plugin delegates to them. netlab then
// reads the Nodes from the API and the namespace's real `route -n`, and must find nothing wrong; a deleted route
// must be found. The apiserver is reached through a unix-socket relay (harness/netns/netns-relay.ts): no packet
// leaves the namespaces or the host's loopback. What is not real: no kubelet (the test writes the pod's status)
// and the nodes' eth0s are not wired to each other (no packet is sent, so none needs to be).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { checkLab } from '../../src/check/check.ts';
import { parseCidr } from '../../src/net/ip.ts';
import { fetchSnapshot } from '../../src/snapshot/from-api.ts';
import { binDir, findBinaries } from '../../harness/control-plane/binaries.ts';
import { clientsFor, createNamespace, createPod, waitFor } from '../../harness/control-plane/cluster.ts';
import { relayToApiserver } from '../../harness/netns/netns-relay.ts';
import { describeReal, skipOrFail } from '../harness/require-real.ts';

const networkOf = (cidr: string) => {
  const { network, prefix } = parseCidr(cidr);
  return `${network}/${prefix}`;
};
const BIN = binDir();
const RELAY_PORT = 6443;
const run = Date.now().toString(36);

/** Why this suite cannot run here, or null: flanneld and the CNI plugins built, and root for `ip netns`. */
function missing(): string | null {
  const built = findBinaries(['flanneld', 'cni/bridge', 'cni/host-local'], ['ip', 'route']);
  if (!built.ok) return built.reason;
  try {
    execFileSync('ip', ['netns', 'add', `netlab-probe-${process.pid}`], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', `netlab-probe-${process.pid}`], { stdio: 'pipe' });
  } catch (error) {
    return `cannot create a network namespace (needs root): ${(error as Error).message.split('\n')[0]}`;
  }
  return null;
}

interface Backend {
  type: 'vxlan' | 'host-gw';
  /** the flannel network and the nodes' /24s inside it */
  network: string;
}

const reason = missing();
const backends: Backend[] = [
  { type: 'vxlan', network: '10.246.0.0/16' },
  { type: 'host-gw', network: '10.247.0.0/16' },
];

for (const backend of backends) {
  const title = `real flanneld (${backend.type}) in network namespaces against the real apiserver: netlab checks its routes`;
  if (reason !== null) {
    skipOrFail(reason);
    describe.skip(title, () => test('needs flanneld, the CNI plugins and root', () => {}));
    continue;
  }
  describeReal(title, (info) => {
    const c = clientsFor(info.kubeconfig);
    const prefix = backend.network.split('.').slice(0, 2).join('.');
    const nodes = [0, 1, 2].map((i) => ({ name: `fl-${backend.type}-${run}-${i + 1}`, ip: `10.130.29.${80 + i}`, podCIDR: `${prefix}.${i}.0/24`, ns: `netlab-fl-${run}-${backend.type}-${i + 1}` }));
    const podNs = `${nodes[0]!.ns}-pod`;
    const namespace = `flannel-${backend.type}-${run}`;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-flannel-'));
    const socket = path.join(dir, 'apiserver.sock');
    const processes: ChildProcess[] = [];
    let relay: net.Server;
    const namespaces: string[] = [];
    const ip = (ns: string, ...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { stdio: 'pipe' });
    const routeN = (ns: string) => execFileSync('ip', ['netns', 'exec', ns, 'route', '-n'], { encoding: 'utf8' });
    const start = (name: string, argv: string[], env: Record<string, string> = {}) => {
      const log = path.join(dir, `${name}.log`);
      const child = spawn('ip', ['netns', 'exec', ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (chunk: Buffer) => writeFileSync(log, chunk, { flag: 'a' }));
      child.stderr!.on('data', (chunk: Buffer) => writeFileSync(log, chunk, { flag: 'a' }));
      processes.push(child);
    };

    beforeAll(async () => {
      relay = await relayToApiserver(socket, info.apiserverPort);
      // flanneld's kubeconfig: the harness admin, at the relay's address inside each namespace.
      const kubeconfig = parseYaml(readFileSync(info.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
      for (const cluster of kubeconfig.clusters) cluster.cluster.server = `https://127.0.0.1:${RELAY_PORT}`;
      writeFileSync(path.join(dir, 'kubeconfig'), stringifyYaml(kubeconfig));
      writeFileSync(path.join(dir, 'net-conf.json'), JSON.stringify({ Network: backend.network, Backend: { Type: backend.type } }));
      await createNamespace(c, namespace);
      for (const node of nodes) {
        // flanneld panics on a Node without annotations; a kubelet-registered Node always has some.
        await c.core.createNode({
          body: {
            metadata: { name: node.name, annotations: { 'node.alpha.kubernetes.io/ttl': '0' }, labels: { 'kubernetes.io/hostname': node.name } },
            spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] },
          },
        });
        execFileSync('ip', ['netns', 'add', node.ns]);
        namespaces.push(node.ns);
        ip(node.ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0-peer');
        ip(node.ns, 'addr', 'add', `${node.ip}/24`, 'dev', 'eth0');
        for (const link of ['lo', 'eth0', 'eth0-peer']) ip(node.ns, 'link', 'set', link, 'up');
        start(`relay-${node.name}`, [node.ns, process.execPath, path.join(import.meta.dirname, '../../harness/netns/netns-relay.ts'), String(RELAY_PORT), socket]);
        start(`flanneld-${node.name}`, [node.ns, path.join(BIN, 'flanneld'), '--kube-subnet-mgr', `--kubeconfig-file=${path.join(dir, 'kubeconfig')}`,
          '--iface=eth0', `--net-config-path=${path.join(dir, 'net-conf.json')}`, `--subnet-file=${path.join(dir, `${node.name}.env`)}`,
          '--ip-masq=false', '--iptables-forward-rules=false', '--set-node-network-unavailable=false'], { NODE_NAME: node.name });
      }
      const [local, ...remotes] = nodes;
      await waitFor(`flanneld on ${local!.name} to route the other nodes' subnets`, async () =>
        remotes.every((r) => routeN(local!.ns).includes(`${r.podCIDR.split('/')[0]} `)), 90_000);

      // The first pod on node 1: what flannel's CNI plugin hands the bridge plugin (its subnet.env, delegate defaults).
      const subnetEnv = Object.fromEntries(readFileSync(path.join(dir, `${local!.name}.env`), 'utf8').trim().split('\n').map((line) => line.split('=') as [string, string]));
      const delegate = {
        cniVersion: '1.0.0', name: 'cbr0', type: 'bridge', hairpinMode: true, isDefaultGateway: true, isGateway: true, ipMasq: false, mtu: Number(subnetEnv.FLANNEL_MTU),
        // flannel's CNI plugin reads FLANNEL_SUBNET (10.246.0.1/24) with net.ParseCIDR, which gives the network 10.246.0.0/24
        ipam: { type: 'host-local', dataDir: path.join(dir, 'ipam'), ranges: [[{ subnet: networkOf(subnetEnv.FLANNEL_SUBNET!) }]], routes: [{ dst: subnetEnv.FLANNEL_NETWORK }] },
      };
      execFileSync('ip', ['netns', 'add', podNs]);
      namespaces.push(podNs);
      let output: string;
      try {
        output = execFileSync('ip', ['netns', 'exec', local!.ns, path.join(BIN, 'cni/bridge')], {
          input: JSON.stringify(delegate),
          env: { ...process.env, CNI_COMMAND: 'ADD', CNI_CONTAINERID: `netlab-${run}`, CNI_NETNS: `/var/run/netns/${podNs}`, CNI_IFNAME: 'eth0', CNI_PATH: path.join(BIN, 'cni') },
          encoding: 'utf8',
        });
      } catch (error) {
        // A CNI plugin reports its error as JSON on stdout.
        const failed = error as { stdout?: string; stderr?: string };
        throw new Error(`the bridge plugin failed: ${failed.stdout ?? ''}${failed.stderr ?? ''}`);
      }
      const result = JSON.parse(output) as { ips: { address: string }[] };
      const podIP = result.ips[0]!.address.split('/')[0]!;
      await createPod(c, { namespace, name: 'web', nodeName: local!.name, hostIP: local!.ip, podIPs: [podIP] });
      if (process.env.NETLAB_FLANNEL_CAPTURE) {
        // Keeps this run's real output as test fixtures (see test/fixtures/flannel-v0.28.10/README.md).
        const out = path.join(process.env.NETLAB_FLANNEL_CAPTURE, backend.type);
        execFileSync('mkdir', ['-p', path.join(out, 'observed', local!.name), path.join(out, 'snapshot')]);
        writeFileSync(path.join(out, 'observed', local!.name, 'route-n.txt'), routeN(local!.ns));
        writeFileSync(path.join(out, 'observed', local!.name, 'ip-route.txt'), execFileSync('ip', ['-n', local!.ns, 'route'], { encoding: 'utf8' }));
        const nodeObjects = await Promise.all(nodes.map((n) => c.core.readNode({ name: n.name })));
        const pods = await c.core.listNamespacedPod({ namespace });
        writeFileSync(path.join(out, 'snapshot', 'cluster.yaml'), stringifyYaml({ apiVersion: 'v1', kind: 'List', items: [
          ...nodeObjects.map((n) => ({ apiVersion: 'v1', kind: 'Node', ...JSON.parse(JSON.stringify(n)) })),
          ...pods.items.map((p) => ({ apiVersion: 'v1', kind: 'Pod', ...JSON.parse(JSON.stringify(p)) })),
        ] }));
      }
    }, 180_000);

    afterAll(async () => {
      for (const child of processes) child.kill('SIGTERM');
      await Promise.all(processes.map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)))));
      for (const ns of namespaces.reverse()) execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
      relay?.close();
      await c.core.deleteNamespace({ name: namespace }).catch(() => undefined);
      for (const node of nodes) await c.core.deleteNode({ name: node.name }).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    const snapshotOfOurNodes = async () => {
      const kc = new KubeConfig();
      kc.loadFromFile(info.kubeconfig);
      const snapshot = await fetchSnapshot(kc);
      // Other suites share this apiserver: keep this run's nodes and pods.
      return { ...snapshot, nodes: snapshot.nodes.filter((n) => nodes.some((o) => o.name === n.name)), pods: snapshot.pods.filter((p) => p.namespace === namespace) };
    };

    test('flanneld annotated the Nodes as netlab reads them', async () => {
      const snapshot = await snapshotOfOurNodes();
      for (const node of nodes) {
        const view = snapshot.nodes.find((n) => n.name === node.name)!;
        expect(view.flannel).toMatchObject({ kubeSubnetManager: true, backendType: backend.type, publicIP: node.ip });
        if (backend.type === 'vxlan') expect(view.flannel).toMatchObject({ vni: 1, vtepMAC: expect.stringMatching(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/) });
      }
    });

    test('node 1\'s real route -n passes netlab\'s check with no findings', async () => {
      const local = nodes[0]!;
      const report = checkLab(await snapshotOfOurNodes(), { nodes: [{ node: local.name, routeN: routeN(local.ns) }] }, { layers: ['routes'], nodes: [local.name] });
      expect(report.cni?.cni).toBe('flannel');
      expect(report.layers.routes.findings).toEqual([]);
      expect(report.layers.routes.counts).toMatchObject({ expected: 3, observed: 3 });
    });

    test('a route deleted behind flanneld\'s back is found', async () => {
      const [local, , third] = nodes;
      ip(local!.ns, 'route', 'del', third!.podCIDR);
      const report = checkLab(await snapshotOfOurNodes(), { nodes: [{ node: local!.name, routeN: routeN(local!.ns) }] }, { layers: ['routes'], nodes: [local!.name] });
      expect(report.layers.routes.findings.map((f) => `${f.kind} ${f.key}`)).toEqual([`missing ${third!.podCIDR}`]);
    });
  });
}
