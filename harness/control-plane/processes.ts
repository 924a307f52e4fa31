// Child processes of the harness: each in its own process group (so a signal to the group reaches
// anything it forked), output to a log file, and startup failures reported with the log's tail.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ManagedProcess {
  name: string;
  command: string[];
  logFile: string;
  child: ChildProcess;
  pid: number;
  /** resolves when the process has exited: its exit code, or the signal that ended it */
  exited: Promise<string>;
  hasExited(): boolean;
}

export function startProcess(name: string, command: string[], logFile: string, cwd: string): ManagedProcess {
  const [bin, ...args] = command;
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin!, args, { cwd, detached: true, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log); // the child holds its own copy of the descriptor
  }
  let done = false;
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve(signal ? `signal ${signal}` : `exit code ${code}`);
    });
    child.once('error', (err) => {
      done = true;
      resolve(`spawn error: ${err.message}`);
    });
  });
  // Keep the harness's own event loop free to end: the processes are stopped explicitly.
  child.unref();
  if (child.pid === undefined) {
    return { name, command, logFile, child, pid: -1, exited, hasExited: () => true };
  }
  return { name, command, logFile, child, pid: child.pid, exited, hasExited: () => done };
}

export class StartupError extends Error {
  constructor(proc: ManagedProcess, problem: string) {
    super(
      `${proc.name} failed to start: ${problem}\n` +
        `command: ${proc.command.join(' ')}\n` +
        `last 20 lines of ${proc.logFile}:\n${tail(proc.logFile, 20).map((l) => `  ${l}`).join('\n')}`,
    );
    this.name = 'StartupError';
  }
}

/** Polls `isReady` until it returns true; fails when the process exits first or the timeout passes. */
export async function waitUntilReady(
  proc: ManagedProcess,
  what: string,
  isReady: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 25;
  for (;;) {
    if (proc.hasExited()) throw new StartupError(proc, `${await proc.exited} before ${what}`);
    if (await isReady().catch(() => false)) return;
    if (Date.now() > deadline) throw new StartupError(proc, `${what} not reached within ${timeoutMs / 1000} s`);
    await sleep(delay);
    delay = Math.min(delay * 2, 250);
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopProcess(proc: ManagedProcess, graceMs: number): Promise<void> {
  // The child is unref'd, so its exit alone would not keep this process running until we see it.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    if (!proc.hasExited()) {
      signalGroup(proc.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
      const outcome = await Promise.race([proc.exited, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        signalGroup(proc.pid, 'SIGKILL');
        await proc.exited;
      }
    }
    signalGroup(proc.pid, 'SIGKILL'); // anything the process left in its group
  } finally {
    clearInterval(keepAlive);
  }
}

/** Signals a whole process group; a group that is already gone is not an error. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

export function tail(file: string, lines: number): string[] {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text === '' ? ['(the log is empty)'] : text.split('\n').slice(-lines);
  } catch (err) {
    return [`(log unreadable: ${(err as Error).message})`];
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Times a start-up in phases: each `phase(name)` records the milliseconds since the previous one (or the
 * start) under `name`, and calls `onPhase` with the name and the time since the start.
 */
export function phaseTimer(onPhase: (name: string, sinceStartMs: number) => void = () => {}): {
  began: number;
  timings: Record<string, number>;
  phase(name: string): void;
} {
  const began = performance.now();
  const timings: Record<string, number> = {};
  let phaseStart = began;
  return {
    began,
    timings,
    phase(name) {
      const now = performance.now();
      timings[name] = Math.round(now - phaseStart);
      phaseStart = now;
      onPhase(name, now - began);
    },
  };
}
