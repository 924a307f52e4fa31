// A NodeExec that queues commands per node. Every lab that covers a node asks it the same few commands
// (`route -n`, `ipvsadm -Ln`, `ip -o addr`), and each exec starts a process in the node's probe Pod through
// the apiserver, the kubelet and the runtime. Unbounded, several labs checking at once pile those up on a
// slow node until they all time out (seen on the harness's TCG node VMs: runc execs taking minutes, then
// failing in setns). So: at most `perNode` commands run on a node at a time, and a request joins an
// identical one for the same node that is still waiting, since both would see the same table. It never
// joins one already running: that one may have read the node before the caller's change.
import { commandText, type ExecOptions, type ExecResult, type NodeExec } from './exec.ts';

interface Waiting {
  argv: string[];
  key: string;
  options: ExecOptions | undefined;
  callers: { resolve: (result: ExecResult) => void; reject: (error: unknown) => void }[];
}

interface NodeQueue {
  running: number;
  waiting: Waiting[];
}

export interface NodeExecQueue extends NodeExec {
  /** commands waiting their turn on `node` (tests read it) */
  waiting(node: string): number;
}

/**
 * Wraps `inner` so that at most `perNode` commands run on each node at once; the timeout in the options
 * counts from the moment the command starts, not while it waits its turn.
 */
export function queuedNodeExec(inner: NodeExec, perNode: number): NodeExecQueue {
  if (!Number.isInteger(perNode) || perNode < 1) throw new Error(`commands per node must be a whole number of at least 1, got ${perNode}`);
  const queues = new Map<string, NodeQueue>();

  const pump = (node: string, queue: NodeQueue) => {
    while (queue.running < perNode && queue.waiting.length > 0) {
      const next = queue.waiting.shift()!;
      queue.running++;
      inner.exec(node, next.argv, next.options).then(
        (result) => next.callers.forEach((c) => c.resolve(result)),
        (error: unknown) => next.callers.forEach((c) => c.reject(error)),
      ).finally(() => {
        queue.running--;
        if (queue.running === 0 && queue.waiting.length === 0) queues.delete(node);
        else pump(node, queue);
      });
    }
  };

  return {
    exec(node, argv, options) {
      let queue = queues.get(node);
      if (queue === undefined) queues.set(node, (queue = { running: 0, waiting: [] }));
      // the timeout is part of the key: a caller that allows 5 s must not inherit another's 60 s
      const key = `${commandText(argv)}\0${options?.timeoutMs ?? ''}`;
      return new Promise<ExecResult>((resolve, reject) => {
        const same = queue.waiting.find((w) => w.key === key);
        if (same !== undefined) same.callers.push({ resolve, reject });
        else queue.waiting.push({ argv, key, options, callers: [{ resolve, reject }] });
        pump(node, queue);
      });
    },
    waiting(node) {
      return queues.get(node)?.waiting.length ?? 0;
    },
  };
}
