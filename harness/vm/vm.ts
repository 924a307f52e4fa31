// A Kubernetes "node" for tests: QEMU (TCG) booting Debian's kernel with the initramfs from
// harness/build/vm-image.sh. The guest's only way out is a guestfwd from 10.0.2.100:<apiserverPort> to the
// apiserver on host loopback (user networking with restrict=on); the host's only way in is the exec
// channel (virtio-serial, see agent-channel.ts). stop() kills QEMU; so do process exit and Ctrl-C.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ExecError } from '../../src/observe/exec.ts';
import type { ExecOptions, ExecResult, NodeExec } from '../../src/observe/exec.ts';
import { killRecordedProcesses, reapOrphans, removeRecord, writeRecord } from '../control-plane/instances.ts';
import type { InstanceRecord } from '../control-plane/instances.ts';
import { startProcess, stopProcess, tail } from '../control-plane/processes.ts';
import { AgentChannel } from './agent-channel.ts';
import type { RunOptions } from './agent-channel.ts';
import { buildVmImage } from './image.ts';
import type { VmImage } from './image.ts';

/** QEMU user networking gives the guest this address. */
export const GUEST_IP = '10.0.2.15';
/** The guestfwd address: the guest's only way to the host, forwarded to the apiserver. */
export const GUEST_APISERVER_ADDRESS = '10.0.2.100';
export const DEFAULT_NODE_NAME = 'netlab-vm-node';
const QEMU = 'qemu-system-x86_64';

export interface NodeVmOptions {
  /** the Node name this VM plays; default netlab-vm-node */
  nodeName?: string;
  /** apiserver port on host loopback; the guest reaches it at 10.0.2.100 on the same port. Absent: no way out at all. */
  apiserverPort?: number;
  /** boot the image that holds kube-proxy (default false: the smaller base image) */
  kubeProxy?: boolean;
  /** boot as a kubelet node (see nodes/): the node image, the cluster link, the 9p shares, the forwarded ports */
  node?: NodeVmWiring;
  /** default 1024 */
  memoryMb?: number;
  /** default 1 */
  cpus?: number;
  /** from QEMU's start to the agent's first answer; default 120 s */
  bootTimeoutMs?: number;
  /** keep the temp dir (console log, QEMU log) after stop() */
  keep?: boolean;
  log?: (line: string) => void;
}

/** How a node VM of a multi-node cluster is wired to the host and to the other VMs. */
export interface NodeVmWiring {
  /**
   * The cluster link: a second NIC (eth1) on a unix-socket stream between the VMs, no host network involved.
   * The first VM listens on the socket (`listen: true`), each other one connects to it.
   */
  link: { socket: string; listen: boolean; mac: string };
  /** host folders the guest mounts read-only over 9p, by mount tag */
  shares: Record<string, string>;
  /** host loopback ports forwarded into the guest (the kubelet's 10250, a DNS relay) */
  forwards: { protocol: 'tcp' | 'udp'; hostPort: number; guestPort: number }[];
}

export interface NodeVm extends NodeExec {
  nodeName: string;
  guestIP: string;
  /** host:port the guest uses for the apiserver, or null without one */
  apiserverAddress: string | null;
  image: VmImage;
  dir: string;
  /** the guest's serial console (kernel messages, rcS, agent log) */
  consoleLog: string;
  /** milliseconds from starting QEMU to the agent's first answer */
  bootMs: number;
  /** exec() without naming the node */
  run(argv: string[], opts?: RunOptions): Promise<ExecResult>;
  /** Writes a file in the guest (parent directories created). */
  writeFile(file: string, content: string, mode?: string): Promise<void>;
  /** Kills QEMU and removes the temp dir; safe to call twice. */
  stop(): Promise<void>;
}

export async function startNodeVm(opts: NodeVmOptions = {}): Promise<NodeVm> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const nodeName = opts.nodeName ?? DEFAULT_NODE_NAME;
  const bootTimeoutMs = opts.bootTimeoutMs ?? 120_000;
  const image = await buildVmImage();
  const initrd = opts.node ? image.initrdNode : opts.kubeProxy ? image.initrdKubeProxy : image.initrdBase;
  if (initrd === null) {
    throw new Error('the VM image has no kube-proxy: build it first (`npm run harness:build`), then `npm run vm:build`');
  }
  reapOrphans(log);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'netlab-vm-'));
  const files = { socket: path.join(dir, 'exec.sock'), console: path.join(dir, 'console.log'), qemuLog: path.join(dir, 'qemu.log') };
  const apiserverAddress = opts.apiserverPort === undefined ? null : `${GUEST_APISERVER_ADDRESS}:${opts.apiserverPort}`;
  const began = performance.now();
  const qemu = startProcess('qemu', qemuCommand(image.kernel, initrd, files, opts), files.qemuLog, dir);
  const record: InstanceRecord = { ownerPid: process.pid, dir, keep: opts.keep ?? false, processes: [{ name: 'qemu', pid: qemu.pid, bin: QEMU }] };
  writeRecord(record);

  let channel: AgentChannel | null = null;
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      live.delete(stop);
      channel?.close();
      // QEMU's child handle is unref'd: hold the event loop open until it has really gone.
      const keepAlive = setInterval(() => {}, 1_000);
      await stopProcess(qemu, 3_000).finally(() => clearInterval(keepAlive));
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
      removeRecord(dir);
    })();
    return stopping;
  };
  live.set(stop, record);
  installExitHooks();

  const alive = () => !qemu.hasExited();
  let guestClockBehindMs: number;
  try {
    channel = await AgentChannel.connect(files.socket, nodeName, alive, bootTimeoutMs);
    const { guestTimeMs } = await channel.waitForAgent(bootTimeoutMs - (performance.now() - began), alive);
    guestClockBehindMs = Date.now() - guestTimeMs;
  } catch (err) {
    const reason = qemu.hasExited() ? `QEMU ended (${await qemu.exited}): ${tail(files.qemuLog, 10).join(' | ')}` : (err as Error).message;
    const consoleTail = tail(files.console, 30).map((l) => `  ${l}`).join('\n');
    await stop();
    throw new Error(`VM ${nodeName} did not boot: ${reason}\nlast lines of the guest console:\n${consoleTail}`);
  }
  const bootMs = Math.round(performance.now() - began);
  log(`netlab harness: VM ${nodeName} (kernel ${image.kernelVersion}${opts.kubeProxy ? ', with kube-proxy' : ''}) ready in ${(bootMs / 1000).toFixed(1)} s (guest clock ${guestClockBehindMs} ms behind the host's)`);

  const agent = channel;
  const run = (argv: string[], runOpts?: RunOptions) => agent.run(argv, runOpts);
  return {
    nodeName,
    guestIP: GUEST_IP,
    apiserverAddress,
    image,
    dir,
    consoleLog: files.console,
    bootMs,
    run,
    exec(node: string, argv: string[], execOpts?: ExecOptions) {
      if (node !== nodeName) return Promise.reject(new ExecError(node, argv, `no VM plays this node (this VM is ${nodeName})`));
      return run(argv, execOpts);
    },
    async writeFile(file: string, content: string, mode = '0644') {
      const argv = ['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', 'write-file', file, mode];
      const result = await run(argv, { stdin: content });
      if (result.exitCode !== 0) throw new ExecError(nodeName, argv, `writing ${file} failed: ${result.stderr.trim()}`);
    },
    stop,
  };
}

function qemuCommand(kernel: string, initrd: string, files: { socket: string; console: string }, opts: NodeVmOptions): string[] {
  // restrict=on: the guest reaches nothing on the host or beyond, except the guestfwd below.
  let netdev = 'user,id=net0,restrict=on';
  if (opts.apiserverPort !== undefined) {
    const port = opts.apiserverPort;
    netdev += `,guestfwd=tcp:${GUEST_APISERVER_ADDRESS}:${port}-cmd:socat - TCP:127.0.0.1:${port}`;
  }
  for (const f of opts.node?.forwards ?? []) netdev += `,hostfwd=${f.protocol}:127.0.0.1:${f.hostPort}-:${f.guestPort}`;
  return [
    QEMU,
    '-accel', 'tcg', // KVM is present on the CI machine but hangs
    '-m', String(opts.memoryMb ?? 1024),
    '-smp', String(opts.cpus ?? 1),
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    '-kernel', kernel,
    '-initrd', initrd,
    '-append', 'console=ttyS0 panic=-1 edd=off quiet',
    '-serial', `file:${files.console}`,
    '-netdev', netdev,
    '-device', 'e1000,netdev=net0,romfile=', // no iPXE option ROM: nothing boots from the network
    '-device', 'virtio-serial',
    '-chardev', `socket,id=exec,path=${files.socket},server=on,wait=off`,
    '-device', 'virtserialport,chardev=exec,name=netlab.exec',
    ...(opts.node ? nodeWiring(opts.node) : []),
  ];
}

function nodeWiring(wiring: NodeVmWiring): string[] {
  const { socket, listen, mac } = wiring.link;
  const args = [
    '-netdev', `stream,id=link0,server=${listen ? 'on' : 'off'},addr.type=unix,addr.path=${socket}`,
    // QEMU gives every VM's second NIC the same default MAC: on a shared link each needs its own
    '-device', `e1000,netdev=link0,mac=${mac},romfile=`,
  ];
  for (const [tag, dir] of Object.entries(wiring.shares)) {
    args.push('-fsdev', `local,id=${tag},path=${dir},security_model=none,readonly=on`, '-device', `virtio-9p-pci,fsdev=${tag},mount_tag=${tag}`);
  }
  return args;
}

// Every VM of this process, so an exit or a signal (Ctrl-C) leaves no QEMU behind.
const live = new Map<() => Promise<void>, InstanceRecord>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const record of live.values()) {
      killRecordedProcesses(record);
      if (!record.keep) rmSync(record.dir, { recursive: true, force: true });
      removeRecord(record.dir);
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = async () => {
      await Promise.all([...live.keys()].map((stop) => stop().catch(() => {})));
      process.removeListener(signal, onSignal);
      // The last handler standing re-raises the signal, so the process still ends because of it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}
