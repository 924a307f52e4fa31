// Records of running control planes, on disk under the cache folder, so processes left behind by a
// harness that was killed outright (SIGKILL, a crashed jest) are found and ended by the next start.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from './binaries.ts';
import { signalGroup } from './processes.ts';

export interface InstanceRecord {
  ownerPid: number;
  dir: string;
  keep: boolean;
  processes: { name: string; pid: number; bin: string }[];
}

export function instancesDir(): string {
  return path.join(cacheDir(), 'harness', 'instances');
}

export function recordFile(dir: string): string {
  return path.join(instancesDir(), `${path.basename(dir)}.json`);
}

export function writeRecord(record: InstanceRecord): void {
  mkdirSync(instancesDir(), { recursive: true });
  writeFileSync(recordFile(record.dir), JSON.stringify(record, null, 2));
}

export function removeRecord(dir: string): void {
  rmSync(recordFile(dir), { force: true });
}

/** Kills every recorded process that is still running (checked by its command line, so a reused pid is left alone). */
export function killRecordedProcesses(record: InstanceRecord): number {
  let killed = 0;
  for (const proc of record.processes) {
    if (commandOf(proc.pid)?.[0] === proc.bin) {
      signalGroup(proc.pid, 'SIGKILL');
      killed++;
    }
  }
  return killed;
}

/** Ends the processes and removes the folders of control planes whose owning process is gone. */
export function reapOrphans(log: (line: string) => void): void {
  if (!existsSync(instancesDir())) return;
  for (const file of readdirSync(instancesDir())) {
    const full = path.join(instancesDir(), file);
    let record: InstanceRecord;
    try {
      record = JSON.parse(readFileSync(full, 'utf8')) as InstanceRecord;
    } catch {
      rmSync(full, { force: true }); // a record cut short while being written
      continue;
    }
    if (isAlive(record.ownerPid)) continue;
    const killed = killRecordedProcesses(record);
    if (!record.keep) rmSync(record.dir, { recursive: true, force: true });
    rmSync(full, { force: true });
    log(`netlab harness: cleaned up after a run that did not stop (owner pid ${record.ownerPid}): ${killed} process(es) killed`);
  }
}

/** A process that exists and is not a zombie (an exited child waiting to be reaped has already stopped). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces, the state follows its last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust the signal check
  }
}

/** The command line of a running process (from /proc), or null when there is none. */
export function commandOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}
