// Step-by-step progress for long lab commands: "[3/9] Install Calico v3.32.1 ... done in 4.2s (total 1m03s)".

/** 1_260 -> "1.3s", 63_000 -> "1m03s", 3_725_000 -> "1h02m05s". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${s}s` : `${m}m${s}s`;
}

export interface Progress {
  /** announce step `index` (1-based) */
  start(index: number, title: string): void;
  /** a line of detail under the current step (what it is waiting for, what it skipped) */
  note(text: string): void;
  /** the current step ended well; `outcome` says how ("done", "already exists") */
  finish(outcome: string): void;
  /** time since the first step started */
  elapsed(): number;
}

export function createProgress(total: number, out: (line: string) => void, now: () => number): Progress {
  const begun = now();
  let stepStarted = begun;
  let label = '';
  return {
    start(index, title) {
      stepStarted = now();
      label = `[${index}/${total}] ${title}`;
      out(`${label} ...`);
    },
    note(text) {
      out(`      ${text}`);
    },
    finish(outcome) {
      const t = now();
      out(`${label}: ${outcome} in ${formatDuration(t - stepStarted)} (total ${formatDuration(t - begun)})`);
    },
    elapsed() {
      return now() - begun;
    },
  };
}
