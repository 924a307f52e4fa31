// The lab drives docker, kind and kubectl. Every call goes through CommandRunner so the orchestration
// can be tested with a recording fake (test/lab/lab-orchestration.test.ts) and run for real here.
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** working directory; the project root when absent */
  cwd?: string;
  /** text written to the command's standard input */
  input?: string;
  /** kill the command after this many milliseconds (it then resolves with code 124, like timeout(1)) */
  timeoutMs?: number;
}

export interface CommandResult {
  /** exit code; 127 when the program is not on PATH (the shell's convention), 124 after a timeout */
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  run(cmd: string, args: string[], opts?: RunOptions): Promise<CommandResult>;
}

export const NOT_FOUND = 127;
export const TIMED_OUT = 124;

/** `cmd arg1 'arg two'`: how a command is shown to the user, in a form they can paste into a shell. */
export function formatCommand(cmd: string, args: string[]): string {
  return [cmd, ...args].map((a) => (/^[\w@%+=:,./{}-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/**
 * Runs real programs with node:child_process. Output is always captured; with `echo` it is also
 * copied, line by line as it arrives, to that function (the CLI's --verbose), so a slow `docker build`
 * or `kind create cluster` shows what it is doing.
 */
export function createProcessRunner(defaultCwd: string, echo?: (line: string) => void): CommandRunner {
  return {
    run(cmd, args, opts = {}) {
      return new Promise((resolve) => {
        const child = spawn(cmd, args, { cwd: opts.cwd ?? defaultCwd, stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const timer = opts.timeoutMs
          ? setTimeout(() => {
              timedOut = true;
              child.kill('SIGTERM');
            }, opts.timeoutMs)
          : undefined;
        const relay = (sink: Buffer[]) => {
          let partial = '';
          return (chunk: Buffer) => {
            sink.push(chunk);
            if (!echo) return;
            const lines = (partial + chunk.toString('utf8')).split('\n');
            partial = lines.pop() ?? '';
            for (const line of lines) echo(`    ${line}`);
          };
        };
        child.stdout.on('data', relay(out));
        child.stderr.on('data', relay(err));
        child.on('error', (e: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          // ENOENT: the program is not installed (or not on PATH); resolve rather than throw so the
          // prerequisite check can name what is missing.
          const code = e.code === 'ENOENT' ? NOT_FOUND : 1;
          resolve({ code, stdout: '', stderr: e.code === 'ENOENT' ? `${cmd}: command not found` : e.message });
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          const stderr = Buffer.concat(err).toString('utf8');
          resolve({
            code: timedOut ? TIMED_OUT : (code ?? (signal ? 128 : 1)),
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: timedOut ? `${stderr}\n${cmd} timed out after ${opts.timeoutMs} ms` : stderr,
          });
        });
        child.stdin.on('error', () => {}); // the program may exit before reading its input
        child.stdin.end(opts.input ?? '');
      });
    },
  };
}
