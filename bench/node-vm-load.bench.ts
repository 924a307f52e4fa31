// Where the CPU of the harness's node VMs goes (not a timed test): brings up the two-node cluster with netlab
// installed (harness/nodes), then, first with no operator, then with the two host operators checking the sample
// labs, then with the operator in its own Pods (the manifests' Deployment, as startOperatorPods tunes it), reads
// each guest's /proc through the VM's own channel (no runc, no kubelet) twice, 30 s apart,
// traces every exec for 30 s (the kernel's sched_process_exec event) and counts every system call for 30 s. It
// prints the guest's user, system and idle share, the processes that used the most CPU, which programs were
// started how often, and which processes made the most system calls, of which kinds.
// Short-lived processes (iptables, ipset, runc) do not show in the per-process list, since they are gone by
// the second read: the exec counts are what show them.
// Run: npm run bench:node-vm-load   (needs `npm run harness:build` and `npm run vm:build`; about 20 min)
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNodeCluster } from '../harness/nodes/cluster.ts';
import { startHostOperators, startOperatorPods } from '../harness/nodes/netlab.ts';
import type { NodeVm } from '../harness/vm/vm.ts';
import { outputOf } from '../src/observe/exec.ts';
import { silentLogger } from '../src/operator/log.ts';

const WINDOW_S = 30;
const TOP = 8;

interface ProcSample {
  /** pid -> command name and CPU ticks used so far (user + system) */
  ticks: Map<string, { comm: string; ticks: number }>;
  /** the `cpu` line of /proc/stat: user, nice, system, idle, iowait, irq, softirq, ... */
  cpu: number[];
}

const READ_PROC = 'for p in /proc/[0-9]*; do read -r l < $p/stat 2>/dev/null && echo "${p#/proc/} $l"; done; head -1 /proc/stat';

async function sample(vm: NodeVm): Promise<ProcSample> {
  const stdout = await outputOf(vm, vm.nodeName, ['sh', '-c', READ_PROC], { timeoutMs: 120_000 });
  const ticks = new Map<string, { comm: string; ticks: number }>();
  let cpu: number[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('cpu ')) cpu = line.trim().split(/\s+/).slice(1).map(Number);
    // "<pid> <pid> (<comm>) <state> <ppid> ...": utime and stime are the 12th and 13th fields after comm
    const match = /^(\d+) \d+ \((.*)\) (.*)$/.exec(line);
    if (!match) continue;
    const fields = match[3]!.split(' ');
    ticks.set(match[1]!, { comm: match[2]!, ticks: Number(fields[11]) + Number(fields[12]) });
  }
  return { ticks, cpu };
}

/** The guest's CPU over one window: shares of user, system and idle time, and the processes that used most. */
function cpuShares(before: ProcSample, after: ProcSample): string {
  const delta = after.cpu.map((v, i) => v - (before.cpu[i] ?? 0));
  const total = delta.reduce((a, b) => a + b, 0) || 1;
  const pct = (ticks: number) => `${Math.round((100 * ticks) / total)}%`;
  const byComm = new Map<string, number>();
  for (const [pid, p] of after.ticks) byComm.set(p.comm, (byComm.get(p.comm) ?? 0) + p.ticks - (before.ticks.get(pid)?.ticks ?? 0));
  const top = [...byComm].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([comm, ticks]) => `${comm} ${pct(ticks)}`);
  const [user = 0, nice = 0, system = 0, idle = 0, , irq = 0, softirq = 0] = delta;
  return `user ${pct(user + nice)}, system ${pct(system + irq + softirq)}, idle ${pct(idle)}; most: ${top.join(', ')}`;
}

const TRACE_EXECS = [
  // a tracefs that cannot be mounted or an event that cannot be enabled fails the run, not an empty count
  'set -e',
  'T=/sys/kernel/tracing',
  '[ -e $T/trace ] || mount -t tracefs none $T',
  'echo > $T/trace',
  'echo 1 > $T/events/sched/sched_process_exec/enable',
  `sleep ${WINDOW_S}`,
  'echo 0 > $T/events/sched/sched_process_exec/enable',
  'grep -o "filename=[^ ]*" $T/trace | sort | uniq -c | sort -rn',
].join('; ');

/** Programs started in the guest during one window, most frequent first ("117 iptables, 40 ipset"). */
async function execCounts(vm: NodeVm): Promise<string> {
  const stdout = await outputOf(vm, vm.nodeName, ['sh', '-c', TRACE_EXECS], { timeoutMs: (WINDOW_S + 120) * 1000 });
  const counts = stdout.trim().split('\n').filter(Boolean).map((line) => {
    const [count, file] = line.trim().split(/\s+filename=/);
    // runc re-executes itself as /proc/self/exe and /dev/fd/N: those keep their path, the rest their name
    return `${count} ${file?.startsWith('/proc/') || file?.startsWith('/dev/') ? file : file?.split('/').at(-1)}`;
  });
  return counts.slice(0, TOP).join(', ') || 'none';
}

// Every system call entered in the window, counted by thread and call in the kernel (a hist trigger), so the
// runtime's share of the CPU can be told apart: Go's scheduler (futex, nanosleep, epoll_pwait), I/O (read,
// write), cgroup and /proc reads for stats (openat). Tracing slows each call a little; counts, not times.
const SYSCALL_HIST = 'hist:keys=common_pid.execname,id.syscall:vals=hitcount:size=16384';
const TRACE_SYSCALLS = [
  'set -e',
  'T=/sys/kernel/tracing',
  '[ -e $T/trace ] || mount -t tracefs none $T',
  `echo '${SYSCALL_HIST}' > $T/events/raw_syscalls/sys_enter/trigger`,
  `sleep ${WINDOW_S}`,
  'cat $T/events/raw_syscalls/sys_enter/hist',
  `echo '!${SYSCALL_HIST}' > $T/events/raw_syscalls/sys_enter/trigger`,
].join('; ');

/** System calls in the guest during one window by process name, the busiest first, each with its three most frequent calls. */
async function syscallCounts(vm: NodeVm): Promise<string> {
  const stdout = await outputOf(vm, vm.nodeName, ['sh', '-c', TRACE_SYSCALLS], { timeoutMs: (WINDOW_S + 120) * 1000 });
  // "{ common_pid: containerd-shim [      812], id: sys_futex [202] } hitcount:       1234"
  const byComm = new Map<string, Map<string, number>>();
  for (const match of stdout.matchAll(/common_pid:\s*(.*?)\s*\[\s*\d+\],\s*id:\s*(?:sys_)?(\S+)\s*\[\s*\d+\]\s*\}\s*hitcount:\s*(\d+)/g)) {
    const calls = byComm.get(match[1]!) ?? new Map<string, number>();
    calls.set(match[2]!, (calls.get(match[2]!) ?? 0) + Number(match[3]));
    byComm.set(match[1]!, calls);
  }
  const total = (calls: Map<string, number>) => [...calls.values()].reduce((a, b) => a + b, 0);
  const busiest = [...byComm].sort((a, b) => total(b[1]) - total(a[1])).slice(0, TOP);
  return busiest.map(([comm, calls]) => `${comm} ${total(calls)} (${[...calls].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([call, n]) => `${call} ${n}`).join(', ')})`).join('; ') || 'none';
}

async function measure(vms: NodeVm[], phase: string): Promise<void> {
  const before = await Promise.all(vms.map(sample));
  await sleep(WINDOW_S * 1000);
  const after = await Promise.all(vms.map(sample));
  const execs = await Promise.all(vms.map(execCounts));
  const syscalls = await Promise.all(vms.map(syscallCounts));
  process.stdout.write(`${phase}:\n`);
  vms.forEach((vm, i) => {
    process.stdout.write(`  ${vm.nodeName} CPU over ${WINDOW_S} s: ${cpuShares(before[i]!, after[i]!)}\n`);
    process.stdout.write(`  ${vm.nodeName} programs started in ${WINDOW_S} s: ${execs[i]}\n`);
    process.stdout.write(`  ${vm.nodeName} system calls in ${WINDOW_S} s: ${syscalls[i]}\n`);
  });
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const cluster = await startNodeCluster({ netlab: true, bootImages: ['operator'], log });
try {
  process.stdout.write(`node VM load, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'} (TCG), cluster up in ${((cluster.timings.total ?? 0) / 1000).toFixed(0)} s\n`);
  await measure(cluster.vms, 'netlab installed, no operator');
  const operators = await startHostOperators(cluster.controlPlane, cluster.dns, { log: silentLogger });
  try {
    // a minute for their first checks to begin
    await sleep(60_000);
    await measure(cluster.vms, 'two host operators checking the sample labs');
  } finally {
    await operators.stop();
  }
  const pods = await startOperatorPods(cluster, log);
  const leading = performance.now();
  const sinceLease = () => `${((performance.now() - leading) / 60_000).toFixed(1)} min after ${pods.leader} took the Lease`;
  // a minute for the leading Pod's first checks, then once more when they have run for a while
  await sleep(60_000);
  await measure(cluster.vms, `the operator in its Pods, ${sinceLease()}`);
  await sleep(180_000);
  await measure(cluster.vms, `the operator in its Pods, ${sinceLease()}`);
} finally {
  await cluster.stop();
}
