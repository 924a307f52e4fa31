// NodeExec on a real cluster: runs a command in the netlab-probe pod on the node (a hostNetwork pod of
// the netlab-probe DaemonSet, so the command sees the node's own routes and IPVS table), through the
// Kubernetes exec API, as `kubectl exec -n netlab-system <probe pod> -- route -n` would.
import { Writable } from 'node:stream';
import { Exec, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { ExecChannelError, ExecError, ExecTimeoutError, type ExecResult, type NodeExec } from './exec.ts';

export const PROBE_LABEL = { key: 'app.kubernetes.io/name', value: 'netlab-probe' } as const;
export const PROBE_CONTAINER = 'probe';

export interface ProbePod {
  namespace: string;
  name: string;
}

/** Finds the running, ready probe pod on a node; null when there is none. */
export type ProbePodFinder = (node: string) => ProbePod | null;

/** Collects a stream into a string, refusing more than `limit` bytes (a probe's output is small). */
class Collector extends Writable {
  readonly #chunks: Buffer[] = [];
  #size = 0;
  readonly #limit: number;
  constructor(limit: number) {
    super();
    this.#limit = limit;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.#size += chunk.length;
    if (this.#size > this.#limit) return done(new Error(`output exceeds ${this.#limit} bytes`));
    this.#chunks.push(chunk);
    done();
  }
  text(): string {
    return Buffer.concat(this.#chunks).toString('utf8');
  }
}

/** The exit code a finished exec reports: 0 on Success, the ExitCode cause on NonZeroExitCode. */
export function exitCodeOf(status: V1Status): number {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = cause?.message === undefined ? NaN : Number(cause.message);
  if (Number.isInteger(code)) return code;
  throw new Error(`exec failed: ${status.message ?? status.reason ?? JSON.stringify(status)}`);
}

export interface ProbeExecOptions {
  /** default 10 s */
  defaultTimeoutMs?: number;
  /** per stream; default 8 MiB (an IPVS table of 10,000 services with 100,000 real servers is ~5 MiB) */
  maxOutputBytes?: number;
  /** injected in tests of this file; default client-node's Exec */
  exec?: Pick<Exec, 'exec'>;
}

/**
 * What went wrong, from whatever the exec call rejected with: an Error, or the WebSocket's error event (not an
 * Error, but with a message and the underlying error), or some other object, shown as JSON.
 */
export function rejectionText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  if (typeof reason === 'object' && reason !== null) {
    const { message, error } = reason as { message?: unknown; error?: unknown };
    if (typeof message === 'string' && message !== '') return message;
    if (error instanceof Error) return error.message;
    try {
      return JSON.stringify(reason);
    } catch {
      // circular: fall through to its string form
    }
  }
  return String(reason);
}

export function probeExec(kc: KubeConfig, findProbePod: ProbePodFinder, options: ProbeExecOptions = {}): NodeExec {
  const exec = options.exec ?? new Exec(kc);
  const maxOutput = options.maxOutputBytes ?? 8 * 1024 * 1024;
  return {
    async exec(node, argv, { timeoutMs = options.defaultTimeoutMs ?? 10_000 } = {}) {
      const pod = findProbePod(node);
      if (pod === null) {
        throw new ExecChannelError(node, argv, 'no ready netlab-probe pod on the node: is the netlab-probe DaemonSet running there (kubectl -n netlab-system get pods -o wide)?');
      }
      const stdout = new Collector(maxOutput);
      const stderr = new Collector(maxOutput);
      const inPod = `in pod ${pod.namespace}/${pod.name}`;
      return new Promise<ExecResult>((resolve, reject) => {
        let socket: { close(): void } | undefined;
        let settled = false;
        const finish = (error: Error | null, result?: ExecResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          socket?.close();
          if (error) reject(error);
          else resolve(result!);
        };
        const timer = setTimeout(() => finish(new ExecTimeoutError(node, argv, timeoutMs)), timeoutMs);
        for (const stream of [stdout, stderr]) {
          stream.on('error', (error) => finish(new ExecError(node, argv, `${inPod}: ${error.message}`)));
        }
        exec
          .exec(pod.namespace, pod.name, PROBE_CONTAINER, argv, stdout, stderr, null, false, (status) => {
            try {
              finish(null, { stdout: stdout.text(), stderr: stderr.text(), exitCode: exitCodeOf(status) });
            } catch (error) {
              finish(new ExecError(node, argv, `${inPod}: ${(error as Error).message}`));
            }
          })
          .then((ws) => {
            socket = ws;
            if (settled) ws.close();
            // A socket that closes without a status means the connection broke before the command ended.
            ws.on?.('close', () => finish(new ExecChannelError(node, argv, `${inPod}: the exec connection closed before the command finished`)));
          })
          .catch((error: unknown) => finish(new ExecChannelError(node, argv, `${inPod}: ${rejectionText(error)}`)));
      });
    },
  };
}
