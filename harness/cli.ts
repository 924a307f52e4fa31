// `npm run harness -- up|down|status`: the test control plane (harness/control-plane/controlplane.ts) by hand.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { cacheDir, findBinaries } from './control-plane/binaries.ts';
import { trackUntilStopped } from './control-plane/cleanup.ts';
import { startControlPlane } from './control-plane/controlplane.ts';
import type { ControlPlaneInfo } from './control-plane/controlplane.ts';
import { isAlive, killRecordedProcesses, removeRecord } from './control-plane/instances.ts';
import { CLUSTER_NODES, startNodeCluster } from './nodes/cluster.ts';
import { startHostOperators, startOperatorPods } from './nodes/netlab.ts';
import { jsonLogger } from '../src/operator/log.ts';
import type { FlannelBackend } from './nodes/cluster.ts';
import { HARNESS_INFO_ENV } from '../test/harness/jest-env.ts';
import { sleep } from './control-plane/processes.ts';

/** What `up` leaves for `down` and `status`: the running control plane and the process that owns it. */
const stateFile = () => path.join(cacheDir(), 'harness', 'up.json');

interface UpState {
  ownerPid: number;
  infoFile: string;
}

const program = new Command('harness')
  .description(
    'Runs the real control plane the integration tests use: etcd, kube-apiserver, kube-controller-manager ' +
      'and CoreDNS on free 127.0.0.1 ports, from the binaries `npm run harness:build` puts in ' +
      '$NETLAB_CACHE_DIR/bin (default .cache/bin). Without --nodes no kubelet runs: create Nodes and Pods ' +
      'yourself and set Pod status through the status subresource; kube-controller-manager turns them into ' +
      'EndpointSlices. With --nodes two QEMU node VMs join it as a real cluster (kubelet, containerd, Flannel).',
  )
  .addHelpText(
    'after',
    `
Examples:
  npm run harness -- up                 start, print how to reach it, run until Ctrl-C
  npm run harness -- up --nodes --netlab
                                        a two-node cluster with netlab installed; then kubectl get nlab -A
  npm run harness -- up --nodes --netlab --operator pods
                                        the same, with the operator in its own Pods
  export KUBECONFIG=<printed path>      then use kubectl or client-node as admin (system:masters)
  dig @127.0.0.1 -p <dns port> kubernetes.default.svc.cluster.local
  ${HARNESS_INFO_ENV}=<printed info.json> npm test -- test/integration
                                        run the integration suites against it (no second start)
  npm run harness -- down               stop it from another terminal

Credentials are client certificates from the harness CA: admin, system:kube-controller-manager,
system:kube-proxy and coredns, each with a kubeconfig next to the admin one.`,
  );

program
  .command('up')
  .description('start the control plane and keep it running until Ctrl-C or `harness down`')
  .option('--keep', 'keep the temp dir (logs, certificates, etcd data) after stopping')
  .option(
    '--nodes',
    `also boot two node VMs (${CLUSTER_NODES.map((n) => `${n.name} ${n.address}`).join(', ')}) with kubelet, containerd, ` +
      'kube-proxy (IPVS) and Flannel, and run CoreDNS as Pods behind kube-dns (a few minutes under TCG)',
  )
  .option('--backend <vxlan|host-gw>', 'Flannel backend with --nodes', 'vxlan')
  .option(
    '--netlab',
    'with --nodes: install netlab as a user does (kubectl apply -k manifests/: the probe DaemonSet, RBAC, the sample ' +
      'labs) and run the operator as --operator says; watch with `kubectl get nlab -A` (adds a few minutes)',
  )
  .option(
    '--operator <host|pods>',
    'with --netlab: "host" runs two instances here under its Lease with its ServiceAccount token (the lighter load ' +
      'on the emulated nodes); "pods" runs its own Deployment, its image imported into both nodes (about 5 more minutes)',
    'host',
  )
  .action(async (options: { keep?: boolean; nodes?: boolean; backend: string; netlab?: boolean; operator: string }) => {
    const running = readState();
    if (running && isAlive(running.ownerPid)) {
      fail(`a control plane is already running (pid ${running.ownerPid}); stop it first with \`npm run harness -- down\``);
    }
    if (options.backend !== 'vxlan' && options.backend !== 'host-gw') fail(`--backend must be vxlan or host-gw, got ${JSON.stringify(options.backend)}`);
    if (options.netlab && !options.nodes) fail('--netlab needs --nodes: the operator and its probes run as Pods on the node VMs');
    if (options.operator !== 'host' && options.operator !== 'pods') fail(`--operator must be host or pods, got ${JSON.stringify(options.operator)}`);
    const log = (line: string) => console.log(line);
    let cp: ControlPlaneInfo;
    let stop: () => Promise<void>;
    let clusterDns: string | null = null;
    if (options.nodes) {
      const operatorPods = options.netlab === true && options.operator === 'pods';
      const cluster = await startNodeCluster({ keep: options.keep, backend: options.backend as FlannelBackend, netlab: options.netlab, bootImages: operatorPods ? ['operator'] : [], log }).catch((err: Error) => fail(err.message));
      ({ controlPlane: cp, stop } = cluster);
      clusterDns = `${cluster.dns.host}:${cluster.dns.port}`;
      if (operatorPods) {
        const pods = await startOperatorPods(cluster, log).catch(async (err: Error) => {
          await cluster.stop();
          return fail(`the operator Pods did not take the Lease: ${err.message}`);
        });
        log(`netlab harness: the operator runs in its Pods; ${pods.leader} leads (kubectl -n netlab-system logs ${pods.leader})`);
      } else if (options.netlab) {
        // the operator on the host, with its ServiceAccount's token (harness/nodes/netlab.ts says why)
        const operatorLog = path.join(cp.dir, 'logs', 'host-operators.log');
        const operators = await startHostOperators(cp, cluster.dns, { log: jsonLogger({ write: (line) => appendFileSync(operatorLog, `${line}\n`) }) }).catch(async (err: Error) => {
          await cluster.stop();
          return fail(`the host operators did not start: ${err.message}`);
        });
        log(`netlab harness: two operators run here under the Lease netlab-system/netlab-operator; their log: ${operatorLog}`);
        stop = async () => {
          await operators.stop();
          await cluster.stop();
        };
      }
    } else {
      const found = findBinaries();
      if (!found.ok) fail(`cannot start: ${found.reason}`);
      const controlPlane = await startControlPlane({ keep: options.keep, binaries: found.paths, log });
      ({ stop } = controlPlane);
      cp = controlPlane;
    }
    const infoFile = path.join(cp.dir, 'info.json');
    mkdirSync(path.dirname(stateFile()), { recursive: true });
    writeFileSync(stateFile(), JSON.stringify({ ownerPid: process.pid, infoFile } satisfies UpState));
    console.log(
      [
        `kubeconfig:     ${cp.kubeconfig}`,
        `apiserver:      ${cp.apiserverUrl} (${cp.kubernetesVersion})`,
        `DNS (CoreDNS):  ${cp.dns.host}:${cp.dns.port} udp+tcp, zone ${cp.clusterDomain}; kube-dns Service ${cp.dnsServiceIP}`,
        `logs:           ${path.join(cp.dir, 'logs')}`,
        `info:           ${infoFile}`,
        '',
        `export KUBECONFIG=${cp.kubeconfig}`,
        `export ${HARNESS_INFO_ENV}=${infoFile}`,
        '',
        ...(clusterDns
          ? [
              `nodes:          ${CLUSTER_NODES.map((n) => n.name).join(', ')} (kubectl get nodes -o wide; VMs' consoles under ${os.tmpdir()}/netlab-vm-*)`,
              `kube-dns:       ${clusterDns} tcp, relayed on node-1 to 10.96.0.10 (dig +tcp -p ${clusterDns.split(':')[1]} @127.0.0.1 kubernetes.default.svc.cluster.local)`,
              '',
            ]
          : []),
        'running; Ctrl-C or `npm run harness -- down` stops it',
      ].join('\n'),
    );
    // Ctrl-C, or the SIGTERM `down` sends: the cleanup registry stops the control plane, then this.
    trackUntilStopped({
      stop: async () => {
        await stop();
        rmSync(stateFile(), { force: true });
        console.log('stopped');
      },
      killNow: () => rmSync(stateFile(), { force: true }),
    });
    setInterval(() => {}, 1 << 30); // stay alive: the children are unref'd
  });

program
  .command('down')
  .description('stop the control plane `harness up` started (from any terminal)')
  .action(async () => {
    const state = readState();
    if (!state) {
      console.log('no control plane is running (nothing recorded by `harness up`)');
      return;
    }
    if (isAlive(state.ownerPid)) {
      process.kill(state.ownerPid, 'SIGTERM');
      for (let waited = 0; waited < 20_000 && isAlive(state.ownerPid); waited += 100) await sleep(100);
    }
    // The owner is gone (stopped above, or killed earlier): end whatever it left behind.
    const info = readInfo(state.infoFile);
    if (info) {
      const killed = killRecordedProcesses({ ownerPid: info.ownerPid, dir: info.dir, keep: false, processes: info.processes.map((p) => ({ name: p.name, pid: p.pid, bin: p.command[0]! })) });
      if (killed > 0) console.log(`killed ${killed} process(es) the owner left behind`);
      removeRecord(info.dir);
    }
    rmSync(stateFile(), { force: true });
    console.log('stopped');
  });

program
  .command('status')
  .description('say whether a control plane started by `harness up` is running, and how to reach it')
  .action(() => {
    const state = readState();
    const info = state && isAlive(state.ownerPid) ? readInfo(state.infoFile) : null;
    if (!info) {
      console.log('not running');
      return;
    }
    console.log(`running (pid ${state!.ownerPid}): ${info.apiserverUrl}, DNS ${info.dns.host}:${info.dns.port}, kubeconfig ${info.kubeconfig}`);
  });

function readState(): UpState | null {
  if (!existsSync(stateFile())) return null;
  return JSON.parse(readFileSync(stateFile(), 'utf8')) as UpState;
}

function readInfo(file: string): ControlPlaneInfo | null {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ControlPlaneInfo) : null;
}

function fail(message: string): never {
  console.error(`harness: ${message}`);
  process.exit(1);
}

await program.parseAsync();
