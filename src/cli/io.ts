// Small I/O helpers of the command line: reading inputs and exiting with netlab's codes.
import { readFile } from 'node:fs/promises';

/** Exit codes: 0 everything matches, 1 findings, 2 usage or input errors. */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/** An error the user can fix: printed as one clear message, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A reader that stops early (`netlab check --help | head`) closes the pipe. Like a Unix tool, which the
 * SIGPIPE signal ends, netlab then stops at once and without a word, with the shell's status for that
 * signal: 141 (128 + 13). Any other output error is a real one and is thrown.
 */
export function endQuietlyWhenOutputCloses(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(EXIT_CLOSED_OUTPUT);
      throw error;
    });
  }
}

/** The status of a process that SIGPIPE ended, as a shell reports it. */
export const EXIT_CLOSED_OUTPUT = 141;

/**
 * The text of a --json answer: indented for a person at a terminal; one compact line for a program that
 * reads a pipe or a file (half the bytes, and V8 writes it about twice as fast).
 */
export function jsonText(value: unknown, stream: { isTTY?: boolean } = process.stdout): string {
  return `${stream.isTTY ? JSON.stringify(value, null, 2) : JSON.stringify(value)}\n`;
}

export async function readInput(file: string | undefined): Promise<{ text: string; source: string }> {
  if (!file || file === '-') {
    if (process.stdin.isTTY) throw new UsageError('no input: give a FILE, or pipe the command\'s output into netlab (e.g. `route -n | netlab explain - --format route`)');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return { text: Buffer.concat(chunks).toString('utf8'), source: '<stdin>' };
  }
  try {
    return { text: await readFile(file, 'utf8'), source: file };
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** The tools whose output netlab reads: `route -n`, `ipvsadm -Ln`, resolv.conf, `nft list table`/`nft list ruleset`, `iptables-save`. */
export type Format = 'route' | 'ipvsadm' | 'resolv' | 'nft' | 'iptables-save';
export const FORMATS: Format[] = ['route', 'ipvsadm', 'resolv', 'nft', 'iptables-save'];

export function asFormat(value: string): Format {
  if ((FORMATS as string[]).includes(value)) return value as Format;
  throw new UsageError(`unknown format "${value}": use one of ${FORMATS.join(', ')}`);
}
