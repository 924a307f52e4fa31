// Running a command on a node: the observer behind `route -n` and `ipvsadm -Ln`. On a real cluster it
// goes through the netlab-probe pod on the node (probe-exec.ts); in the tests, through the agent of a
// QEMU VM (harness/vm). Both report failures with these errors, which name the node and the command.

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ExecOptions {
  /** how long the command may run before it is killed and the call fails with ExecTimeoutError */
  timeoutMs?: number;
}

/**
 * Runs `argv` on `node`. Resolves with the exit code whatever it is (a non-zero exit is the caller's
 * to judge, see outputOf); rejects when the command could not run to the end: ExecTimeoutError,
 * ExecChannelError, or an ExecError for anything else.
 */
export interface NodeExec {
  exec(node: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
}

/** A command line as a reader would type it, for messages: `ipvsadm -Ln`, `sh -c 'ip route'`. */
export function commandText(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
}

export class ExecError extends Error {
  readonly node: string;
  readonly argv: readonly string[];
  /** what went wrong, without the command and node the message starts with */
  readonly problem: string;
  constructor(node: string, argv: readonly string[], problem: string) {
    super(`\`${commandText(argv)}\` on node ${node}: ${problem}`);
    this.name = 'ExecError';
    this.node = node;
    this.argv = argv;
    this.problem = problem;
  }
}

export class ExecTimeoutError extends ExecError {
  readonly timeoutMs: number;
  constructor(node: string, argv: readonly string[], timeoutMs: number) {
    super(node, argv, `timed out after ${timeoutMs} ms`);
    this.name = 'ExecTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The way to the node broke (connection closed, agent gone): the command's fate is unknown. */
export class ExecChannelError extends ExecError {
  constructor(node: string, argv: readonly string[], problem: string) {
    super(node, argv, problem);
    this.name = 'ExecChannelError';
  }
}

/** stdout of a command that must succeed; a non-zero exit becomes an ExecError carrying its stderr. */
export async function outputOf(exec: NodeExec, node: string, argv: string[], opts?: ExecOptions): Promise<string> {
  const result = await exec.exec(node, argv, opts);
  if (result.exitCode !== 0) {
    const stderr = result.stderr.trim();
    throw new ExecError(node, argv, `exit code ${result.exitCode}${stderr ? `: ${stderr}` : ''}`);
  }
  return result.stdout;
}
