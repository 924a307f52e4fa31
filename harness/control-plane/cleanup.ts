// Everything a harness starts must end with the process that started it, however that process ends:
// Ctrl-C, SIGTERM (a CI timeout) or SIGHUP stop each tracked resource gracefully and then let the
// signal do what it would have done; a plain exit kills them outright (exit handlers cannot wait).
// One registry for every kind of resource (control plane, VM), so the signal is re-raised once, after
// all of them have stopped.

export interface Tracked {
  /** graceful stop; must be safe to call twice */
  stop(): Promise<void>;
  /** synchronous last resort when the process exits with the resource still running */
  killNow(): void;
}

const tracked = new Set<Tracked>();
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

/** Tracks `resource` until the returned function is called (once it has stopped by itself). */
export function trackUntilStopped(resource: Tracked): () => void {
  install();
  tracked.add(resource);
  return () => tracked.delete(resource);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const resource of tracked) resource.killNow();
  });
  for (const signal of signals) process.on(signal, onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  void stopAllThenReraise(signal);
}

let stopping: Promise<void> | null = null;

async function stopAllThenReraise(signal: NodeJS.Signals): Promise<void> {
  stopping ??= Promise.allSettled([...tracked].map((resource) => resource.stop())).then(() => {});
  await stopping;
  // Re-raise even when other listeners remain: jest's signal-exit, for one, only ends the process when
  // it is the last listener, so waiting for "no listeners left" would keep a Ctrl-C'd run alive.
  for (const s of signals) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}
