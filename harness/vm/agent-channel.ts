// The host end of the VM's exec channel: a Unix socket that QEMU connects to the guest's virtio-serial
// port, where harness/vm/agent (netlab-agent) answers. One JSON object per line; every request carries
// an id and the agent answers each one with the same id, in any order, so calls may overlap.
import net from 'node:net';
import { ExecChannelError, ExecError, ExecTimeoutError } from '../../src/observe/exec.ts';
import type { ExecResult } from '../../src/observe/exec.ts';

interface AgentRequest {
  id: number;
  op: 'exec' | 'ping';
  argv?: string[];
  stdin?: string;
  timeoutMs?: number;
}

interface AgentResponse {
  id: number;
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  timedOut?: boolean;
  error?: string;
  guestTimeMs?: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** written to the command's standard input */
  stdin?: string;
}

/** How long past the command's own timeout the host waits for the agent to report it. */
const REPLY_GRACE_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 30_000;

export class AgentChannel {
  readonly #socket: net.Socket;
  readonly #node: string;
  readonly #pending = new Map<number, (reply: AgentResponse | Error) => void>();
  #nextId = 1;
  #buffer = '';
  #closed: string | null = null;

  private constructor(socket: net.Socket, node: string) {
    this.#socket = socket;
    this.#node = node;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#receive(chunk));
    socket.on('error', (err) => this.#fail(`exec channel error: ${err.message}`));
    socket.on('close', () => this.#fail('the exec channel closed (VM stopped or QEMU exited)'));
  }

  /** Connects to QEMU's socket, retrying while QEMU has not created it yet; gives up when `alive` says QEMU is gone. */
  static async connect(socketPath: string, node: string, alive: () => boolean, timeoutMs: number): Promise<AgentChannel> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.createConnection(socketPath);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        return new AgentChannel(socket, node);
      } catch (err) {
        if (!alive()) throw new Error(`QEMU exited before its exec socket ${socketPath} accepted a connection`);
        if (Date.now() > deadline) throw new Error(`cannot connect to the VM's exec socket ${socketPath}: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /**
   * Resolves with the guest's clock once the agent answers. Pings are repeated, since a ping sent while
   * the guest is still booting waits in QEMU's buffer or is lost; late answers to earlier pings are ignored.
   */
  async waitForAgent(timeoutMs: number, alive: () => boolean): Promise<{ guestTimeMs: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = await this.#request({ op: 'ping' }, 1_000).catch((err: Error) => err);
      if (!(reply instanceof Error)) return { guestTimeMs: reply.guestTimeMs ?? 0 };
      if (this.#closed) throw new Error(this.#closed);
      if (!alive()) throw new Error('QEMU exited before the guest agent answered');
      if (Date.now() > deadline) throw new Error(`the guest agent did not answer within ${timeoutMs / 1000} s`);
    }
  }

  async run(argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new ExecError(this.#node, argv, 'empty command');
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let reply: AgentResponse;
    try {
      reply = await this.#request({ op: 'exec', argv, stdin: opts.stdin, timeoutMs }, timeoutMs + REPLY_GRACE_MS);
    } catch (err) {
      throw new ExecChannelError(this.#node, argv, (err as Error).message);
    }
    if (reply.timedOut) throw new ExecTimeoutError(this.#node, argv, timeoutMs);
    if (reply.error) throw new ExecError(this.#node, argv, reply.error);
    return { stdout: reply.stdout ?? '', stderr: reply.stderr ?? '', exitCode: reply.exitCode ?? -1 };
  }

  close(): void {
    this.#fail('the exec channel was closed by the host');
    this.#socket.destroy();
  }

  #request(body: Omit<AgentRequest, 'id'>, replyTimeoutMs: number): Promise<AgentResponse> {
    if (this.#closed) return Promise.reject(new Error(this.#closed));
    const id = this.#nextId++;
    return new Promise<AgentResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`no answer from the guest agent within ${replyTimeoutMs} ms`));
      }, replyTimeoutMs);
      this.#pending.set(id, (reply) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        if (reply instanceof Error) reject(reply);
        else resolve(reply);
      });
      this.#socket.write(`${JSON.stringify({ id, ...body })}\n`);
    });
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let newline: number;
    while ((newline = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, newline).trim();
      this.#buffer = this.#buffer.slice(newline + 1);
      if (!line) continue;
      let reply: AgentResponse;
      try {
        reply = JSON.parse(line) as AgentResponse;
      } catch {
        this.#fail(`the guest agent sent a line that is not JSON: ${line.slice(0, 200)}`);
        return;
      }
      if (reply.id === 0 && reply.error) {
        this.#fail(`the guest agent rejected a request: ${reply.error}`);
        return;
      }
      this.#pending.get(reply.id)?.(reply); // unknown ids: answers to pings that were given up on
    }
  }

  #fail(reason: string): void {
    this.#closed ??= reason;
    for (const settle of [...this.#pending.values()]) settle(new Error(reason));
  }
}
