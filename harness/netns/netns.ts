// Network namespaces on this machine as stand-in nodes: a NodeExec that runs commands inside them, so the
// same checks run here and, through another NodeExec, on the node VMs or real nodes. Nothing is sent
// anywhere: the suites only program tables and ask the kernel for its routing decisions.
import { execFile, execFileSync } from 'node:child_process';
import type { ExecResult, NodeExec } from '../../src/observe/exec.ts';

/** Why namespaces cannot be used here, or null: needs root and iproute2 with `ip netns`. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 (the `ip` command) is not installed';
  }
  const probe = `netlab-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
  } catch (error) {
    return `\`ip netns add\` fails here: ${(error as Error).message.split('\n')[0]}`;
  }
  return null;
}

export interface Namespaces extends NodeExec {
  /** the namespace standing in for `node` */
  namespaceOf(node: string): string;
  /** runs `argv` in the node's namespace and returns stdout; throws with stderr on a non-zero exit */
  run(node: string, argv: string[]): Promise<string>;
  remove(): void;
}

/** One fresh namespace per node name, removed by remove(). Names carry the pid, so parallel runs do not meet. */
export function createNamespaces(nodes: readonly string[], tag: string): Namespaces {
  const names = new Map(nodes.map((node, i) => [node, `netlab-${tag}-${process.pid}-${i}`] as const));
  for (const ns of names.values()) {
    execFileSync('ip', ['netns', 'add', ns], { stdio: 'pipe' });
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up'], { stdio: 'pipe' });
  }
  const namespaceOf = (node: string) => {
    const ns = names.get(node);
    if (!ns) throw new Error(`no namespace stands in for node ${node} (nodes: ${[...names.keys()].join(', ')})`);
    return ns;
  };
  const exec = (node: string, argv: string[]): Promise<ExecResult> =>
    new Promise((resolve) => {
      execFile('ip', ['netns', 'exec', namespaceOf(node), ...argv], { encoding: 'utf8' }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ stdout, stderr, exitCode: code });
      });
    });
  return {
    exec,
    namespaceOf,
    async run(node, argv) {
      const result = await exec(node, argv);
      if (result.exitCode !== 0) throw new Error(`\`${argv.join(' ')}\` in the namespace of ${node}: exit ${result.exitCode}: ${result.stderr.trim()}`);
      return result.stdout;
    },
    remove() {
      for (const ns of names.values()) {
        try {
          execFileSync('ip', ['netns', 'del', ns], { stdio: 'pipe' });
        } catch {
          // already gone
        }
      }
    },
  };
}
