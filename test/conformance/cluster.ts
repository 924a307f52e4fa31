// kubectl against the conformance cluster, through the lab's CommandRunner: reading lab status, finding a
// node's probe pod, running a command in a node's network namespace, and polling until something holds.
// The same class serves every provider: kind (a kubectl context), k3s (its kubeconfig) and the harness's VM
// cluster (its kubectl binary and kubeconfig).
import type { CommandResult, CommandRunner } from '../../src/lab/runner.ts';
import { formatCommand } from '../../src/lab/runner.ts';

export type ConditionType = 'RoutesVerified' | 'IPVSVerified' | 'DNSVerified' | 'ResolvConfVerified' | 'Ready';

export interface ConditionView {
  status: string;
  reason: string;
  message: string;
}

export interface FindingView {
  layer: string;
  kind: string;
  node?: string;
  key: string;
  message?: string;
}

export interface LabView {
  conditions: Partial<Record<ConditionType, ConditionView>>;
  findings: FindingView[];
  lastCheckTime: string | null;
}

export class Kube {
  private readonly runner: CommandRunner;
  private readonly target: string[];
  private readonly kubectl: string;

  /** `target`: the arguments that pick the cluster (`--context NAME` or `--kubeconfig FILE`) */
  constructor(runner: CommandRunner, target: string[], kubectl = 'kubectl') {
    this.runner = runner;
    this.target = target;
    this.kubectl = kubectl;
  }

  async run(args: string[], input?: string): Promise<string> {
    return (await this.runWithWarnings(args, input)).stdout;
  }

  /** The command's output and what it wrote to stderr (the apiserver's warnings, e.g. Pod Security's). */
  async runWithWarnings(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
    const r = await this.attempt(args, input);
    if (r.code !== 0) throw new Error(`${r.command} exited with code ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return { stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs kubectl and returns its exit code rather than throwing (`kubectl exec` passes on the command's). */
  async attempt(args: string[], input?: string): Promise<CommandResult & { command: string }> {
    const full = [...this.target, ...args];
    const r = await this.runner.run(this.kubectl, full, { input, timeoutMs: 10 * 60_000 });
    return { ...r, command: `\`${formatCommand(this.kubectl, full)}\`` };
  }

  async json<T>(args: string[]): Promise<T> {
    return JSON.parse(await this.run([...args, '-o', 'json'])) as T;
  }

  async lab(namespace: string, name: string): Promise<LabView> {
    const doc = await this.json<{ status?: { conditions?: ({ type: ConditionType } & ConditionView)[]; findings?: FindingView[]; lastCheckTime?: string } }>(['-n', namespace, 'get', 'networklab', name]);
    const conditions: LabView['conditions'] = {};
    for (const c of doc.status?.conditions ?? []) conditions[c.type] = { status: c.status, reason: c.reason, message: c.message };
    return { conditions, findings: doc.status?.findings ?? [], lastCheckTime: doc.status?.lastCheckTime ?? null };
  }

  /** The netlab-probe pod on `node` (hostNetwork: commands in it see the node's own routes and IPVS table). */
  async probePod(node: string): Promise<string> {
    const pods = await this.json<{ items: { metadata: { name: string } }[] }>(['-n', 'netlab-system', 'get', 'pods', '-l', 'app.kubernetes.io/name=netlab-probe', '--field-selector', `spec.nodeName=${node}`]);
    const pod = pods.items[0]?.metadata.name;
    if (!pod) throw new Error(`no netlab-probe pod on node ${node}`);
    return pod;
  }

  /** Runs a command in the node's network namespace, through its probe pod (which has CAP_NET_ADMIN). */
  async onNode(node: string, command: string[]): Promise<string> {
    return this.run(['-n', 'netlab-system', 'exec', await this.probePod(node), '--', ...command]);
  }
}

/** Polls `check` until it returns a value (not null); returns it with the time it took. */
export async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | null>, pollMs = 3000): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let lastError = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== null) return { value, ms: Date.now() - started };
    } catch (e) {
      lastError = ` (last error: ${(e as Error).message})`;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000}s waiting until ${what}${lastError}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** A fixed-width text table, for the summary the suite prints at the end. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
