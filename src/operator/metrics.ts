// A small Prometheus registry with the text exposition format (version 0.0.4) written by hand:
// counters, gauges and histograms with labels. The operator needs nothing more, so no dependency.

type Labels = Record<string, string>;

function labelKey(names: readonly string[], labels: Labels): string {
  return JSON.stringify(names.map((n) => labels[n] ?? ''));
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function renderLabels(names: readonly string[], values: readonly string[], extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra !== '') parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

interface Metric {
  render(): string;
}

abstract class LabelledMetric<V> implements Metric {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly series = new Map<string, { labels: string[]; value: V }>();
  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }
  protected abstract initial(): V;
  protected abstract type(): string;
  protected abstract renderSeries(labels: string[], value: V): string[];
  protected entry(labels: Labels): { labels: string[]; value: V } {
    const key = labelKey(this.labelNames, labels);
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { labels: this.labelNames.map((n) => labels[n] ?? ''), value: this.initial() };
      this.series.set(key, entry);
    }
    return entry;
  }
  /** Drops a series (a deleted node or lab), so /metrics does not grow forever. */
  remove(labels: Labels): void {
    this.series.delete(labelKey(this.labelNames, labels));
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type()}`];
    for (const { labels, value } of this.series.values()) lines.push(...this.renderSeries(labels, value));
    return lines.join('\n');
  }
}

export class Counter extends LabelledMetric<{ n: number }> {
  protected initial() {
    return { n: 0 };
  }
  protected type() {
    return 'counter';
  }
  protected renderSeries(labels: string[], value: { n: number }) {
    return [`${this.name}${renderLabels(this.labelNames, labels)} ${formatNumber(value.n)}`];
  }
  inc(labels: Labels = {}, by = 1): void {
    if (by < 0) throw new Error(`counter ${this.name} cannot decrease (inc by ${by})`);
    this.entry(labels).value.n += by;
  }
  /** Creates the series at 0, so a rate() query sees it before the first event. */
  init(labels: Labels = {}): void {
    this.entry(labels);
  }
  get(labels: Labels = {}): number {
    return this.series.get(labelKey(this.labelNames, labels))?.value.n ?? 0;
  }
}

export class Gauge extends LabelledMetric<{ n: number }> {
  protected initial() {
    return { n: 0 };
  }
  protected type() {
    return 'gauge';
  }
  protected renderSeries(labels: string[], value: { n: number }) {
    return [`${this.name}${renderLabels(this.labelNames, labels)} ${formatNumber(value.n)}`];
  }
  set(labels: Labels, value: number): void {
    this.entry(labels).value.n = value;
  }
  get(labels: Labels = {}): number {
    return this.series.get(labelKey(this.labelNames, labels))?.value.n ?? 0;
  }
}

interface HistogramValue {
  buckets: number[];
  sum: number;
  count: number;
}

export class Histogram extends LabelledMetric<HistogramValue> {
  readonly bounds: readonly number[];
  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    this.bounds = [...bounds].sort((a, b) => a - b);
  }
  protected initial() {
    return { buckets: this.bounds.map(() => 0), sum: 0, count: 0 };
  }
  protected type() {
    return 'histogram';
  }
  protected renderSeries(labels: string[], value: HistogramValue) {
    const lines = this.bounds.map(
      (bound, i) => `${this.name}_bucket${renderLabels(this.labelNames, labels, `le="${formatNumber(bound)}"`)} ${value.buckets[i]}`,
    );
    lines.push(`${this.name}_bucket${renderLabels(this.labelNames, labels, 'le="+Inf"')} ${value.count}`);
    lines.push(`${this.name}_sum${renderLabels(this.labelNames, labels)} ${formatNumber(value.sum)}`);
    lines.push(`${this.name}_count${renderLabels(this.labelNames, labels)} ${value.count}`);
    return lines;
  }
  observe(labels: Labels, value: number): void {
    const entry = this.entry(labels).value;
    // Buckets are cumulative: a value counts in every bucket whose bound it does not exceed.
    this.bounds.forEach((bound, i) => {
      if (value <= bound) entry.buckets[i]! += 1;
    });
    entry.sum += value;
    entry.count += 1;
  }
  count(labels: Labels = {}): number {
    return this.series.get(labelKey(this.labelNames, labels))?.value.count ?? 0;
  }
}

export class Registry {
  readonly #metrics: Metric[] = [];
  register<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }
  /** The text exposition format, served at /metrics. */
  render(): string {
    return `${this.#metrics.map((m) => m.render()).join('\n')}\n`;
  }
}

/** The operator's metrics. */
export function operatorMetrics(registry = new Registry()) {
  const seconds = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
  return {
    registry,
    checks: registry.register(new Counter('netlab_checks_total', 'Lab checks run, by result (ok, requeue, transient, terminal).', ['result'])),
    findings: registry.register(new Gauge('netlab_findings', 'Differences found in the last check of each lab, by layer and by whether they are still converging.', ['lab', 'layer', 'converging'])),
    checkDuration: registry.register(new Histogram('netlab_check_duration_seconds', 'Time of one lab check: snapshot, probes, comparison and status write.', [], seconds)),
    execErrors: registry.register(new Counter('netlab_exec_errors_total', 'Probe commands (route -n, ipvsadm -Ln) that failed or timed out, by node.', ['node', 'command'])),
    programmingLatency: registry.register(
      new Histogram('netlab_network_programming_latency_seconds', 'Time from a watched change (Service, EndpointSlice, Pod, Node) to the first probe of a node showing the expected state.', ['node'], seconds),
    ),
    statusWrites: registry.register(new Counter('netlab_status_writes_total', 'NetworkLab status writes, by result (written, conflict, error).', ['result'])),
    informerRestarts: registry.register(new Counter('netlab_informer_restarts_total', 'Watch restarts after an error, by resource.', ['resource'])),
    isLeader: registry.register(new Gauge('netlab_leader', '1 when this instance holds the leader Lease and runs checks.', [])),
  };
}

export type OperatorMetrics = ReturnType<typeof operatorMetrics>;
