// A NodeExec that sends the commands asked of one node in the same turn of the event loop as one exec: a
// POSIX `sh -c` script that runs them one after another and marks where each one's stdout and stderr end,
// with its exit status. A check asks each node three or four commands at once (src/operator/observe.ts). On a
// real cluster every exec is a connection through the apiserver to the kubelet and a process the runtime
// starts in the probe Pod, so one exec instead of four is a quarter of that work for the same tables; the
// commands themselves take milliseconds. A probe image without `sh` still works: once a script fails to run
// on a node, that node's commands go one per exec.
import { commandText, ExecChannelError, ExecError, ExecTimeoutError, type ExecOptions, type ExecResult, type NodeExec } from './exec.ts';

/**
 * The line that ends each command's part of the output. Fixed rather than random, so that identical batches
 * stay identical and a queue (node-exec-queue.ts) can let two labs share one; no table netlab reads can
 * contain it.
 */
const MARK = '@@netlab-probe-section@@';

interface Pending {
  argv: string[];
  options: ExecOptions | undefined;
  resolve: (result: ExecResult) => void;
  reject: (error: unknown) => void;
}

/**
 * The script for `commands`: after each one, `\n<MARK> <index> <status>` on stdout and `\n<MARK> <index>` on
 * stderr. The newline first, so a command whose output lacks a final newline is still told apart; the parser
 * takes it off again.
 */
export function batchScript(commands: readonly (readonly string[])[]): string[] {
  const steps = commands.map((argv, i) => `${commandText(argv)}; s=$?; printf '\\n%s %d %d\\n' '${MARK}' ${i} "$s"; printf '\\n%s %d\\n' '${MARK}' ${i} >&2`);
  return ['sh', '-c', steps.join('\n')];
}

/** Each command's own result from the script's, or null when the script did not run them all (no shell, killed). */
export function splitBatch(result: ExecResult, count: number): ExecResult[] | null {
  const out = result.stdout.split(new RegExp(`\\n${MARK} (\\d+) (\\d+)\\n`));
  const err = result.stderr.split(new RegExp(`\\n${MARK} (\\d+)\\n`));
  // split with capture groups: [part0, index0, status0, part1, index1, status1, …, after the last]
  if (out.length !== count * 3 + 1 || err.length !== count * 2 + 1) return null;
  const results: ExecResult[] = [];
  for (let i = 0; i < count; i++) {
    if (Number(out[i * 3 + 1]) !== i || Number(err[i * 2 + 1]) !== i) return null;
    results.push({ stdout: out[i * 3]!, stderr: err[i * 2]!, exitCode: Number(out[i * 3 + 2]) });
  }
  return results;
}

/** The batch's timeout or broken connection as the error of one of its commands: the same kind, naming that command. */
function errorFor(error: unknown, node: string, argv: string[]): unknown {
  if (error instanceof ExecTimeoutError) return new ExecTimeoutError(node, argv, error.timeoutMs);
  if (error instanceof ExecChannelError) return new ExecChannelError(node, argv, error.problem);
  return error;
}

const longest = (batch: readonly Pending[]): ExecOptions | undefined => {
  const timeouts = batch.map((p) => p.options?.timeoutMs);
  return timeouts.includes(undefined) ? undefined : { timeoutMs: Math.max(...(timeouts as number[])) };
};

export function batchedNodeExec(inner: NodeExec): NodeExec {
  const gathering = new Map<string, Pending[]>();
  /** nodes whose probe ran the commands alone where their script failed: it has no shell */
  const noShell = new Set<string>();

  /** each command in its own exec; true when all of them ran */
  const oneByOne = async (node: string, batch: readonly Pending[]): Promise<boolean> => {
    const results = await Promise.allSettled(batch.map((p) => inner.exec(node, p.argv, p.options)));
    results.forEach((r, i) => (r.status === 'fulfilled' ? batch[i]!.resolve(r.value) : batch[i]!.reject(r.reason)));
    return results.every((r) => r.status === 'fulfilled');
  };

  const send = async (node: string, batch: Pending[]) => {
    if (batch.length === 1 || noShell.has(node)) return void (await oneByOne(node, batch));
    let split: ExecResult[] | null;
    try {
      split = splitBatch(await inner.exec(node, batchScript(batch.map((p) => p.argv)), longest(batch)), batch.length);
    } catch (error) {
      // a timeout or a broken connection would befall each command alike; anything else may be a missing shell
      if (error instanceof ExecTimeoutError || error instanceof ExecChannelError || !(error instanceof ExecError)) {
        return void batch.forEach((p) => p.reject(errorFor(error, node, p.argv)));
      }
      split = null;
    }
    if (split !== null) return void batch.forEach((p, i) => p.resolve(split[i]!));
    // Only when the commands then run alone is the shell to blame; a Pod on its way out fails them too, and a
    // later check tries the script again.
    if (await oneByOne(node, batch)) noShell.add(node);
  };

  return {
    exec(node, argv, options) {
      return new Promise<ExecResult>((resolve, reject) => {
        const batch = gathering.get(node);
        if (batch !== undefined) return void batch.push({ argv, options, resolve, reject });
        gathering.set(node, [{ argv, options, resolve, reject }]);
        // the commands of one check are all asked before it awaits anything: gather until the next turn
        setImmediate(() => {
          const gathered = gathering.get(node)!;
          gathering.delete(node);
          void send(node, gathered);
        });
      });
    },
  };
}
