// The NetworkLab custom resource as the operator reads it: the raw object from the API turned into a
// normalised LabSpec (defaults applied, durations in milliseconds), plus the label-selector logic the
// spec uses. The CRD (crds/networklab.yaml) already rejects bad specs; these checks repeat the ones the
// operator relies on, so an object written under an older or hand-edited CRD fails with a clear message
// instead of a crash.
import { CHECK_NAMES, DEFAULT_CHECKS, SERVICE_CHECKS } from '../check/check.ts';
import type { CheckName, UserDnsQuery } from '../check/types.ts';

export const GROUP = 'netlab.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'networklabs';
export const KIND = 'NetworkLab';

const DNS_QUERY_TYPES = ['A', 'AAAA', 'SRV', 'CNAME', 'PTR'] as const;

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: LabelSelectorRequirement[];
}

export interface LabSpec {
  /** as written: "services" is resolved to kube-proxy's mode at each check (resolveChecks) */
  checks: CheckName[];
  /** null selects every node */
  nodeSelector: LabelSelector | null;
  services: {
    /** namespaces whose Services the DNS layer checks (defaults to the lab's namespace and kube-system) */
    namespaces: string[];
    /** null selects every Service in those namespaces */
    selector: LabelSelector | null;
  };
  dnsQueries: UserDnsQuery[];
  intervalMs: number;
  gracePeriodMs: number;
}

/** One NetworkLab as the operator works with it. */
export interface Lab {
  /** "namespace/name": the work-queue key */
  key: string;
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  spec: LabSpec;
}

export class LabSpecError extends Error {
  constructor(labKey: string, field: string, problem: string) {
    super(`NetworkLab ${labKey}: ${field} ${problem}`);
    this.name = 'LabSpecError';
  }
}

export function labKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function splitLabKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash <= 0) throw new Error(`not a lab key (namespace/name): ${JSON.stringify(key)}`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/y;

/** Parses a Go duration string ("60s", "1m30s", "1.5h", "250ms") to milliseconds; null when malformed. */
export function parseDuration(text: string): number | null {
  if (text === '') return null;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const match = DURATION_PART.exec(text);
    if (match === null) return null;
    total += Number(match[1]) * DURATION_UNITS_MS[match[2]!]!;
  }
  return total;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the spec fields with a uniform error: "NetworkLab ns/name: spec.x must be ...". */
class SpecReader {
  readonly key: string;
  constructor(key: string) {
    this.key = key;
  }
  fail(field: string, problem: string): never {
    throw new LabSpecError(this.key, field, problem);
  }
  record(value: unknown, field: string): Record<string, unknown> {
    if (value === undefined || value === null) return {};
    if (!isRecord(value)) this.fail(field, `must be an object, got ${JSON.stringify(value)}`);
    return value;
  }
  list(value: unknown, field: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(field, `must be a list, got ${JSON.stringify(value)}`);
    return value;
  }
  string(value: unknown, field: string): string {
    if (typeof value !== 'string') this.fail(field, `must be a string, got ${JSON.stringify(value)}`);
    return value;
  }
  duration(value: unknown, field: string, fallback: string, minMs: number, maxMs: number): number {
    const text = value === undefined ? fallback : this.string(value, field);
    const ms = parseDuration(text);
    if (ms === null) this.fail(field, `must be a duration such as 30s, 5m or 1h30m, got ${JSON.stringify(text)}`);
    if (ms < minMs || ms > maxMs) this.fail(field, `must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}, got ${text}`);
    return ms;
  }
  selector(value: unknown, field: string): LabelSelector | null {
    if (value === undefined || value === null) return null;
    const raw = this.record(value, field);
    const matchLabels: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.record(raw.matchLabels, `${field}.matchLabels`))) {
      matchLabels[k] = this.string(v, `${field}.matchLabels.${k}`);
    }
    const matchExpressions = this.list(raw.matchExpressions, `${field}.matchExpressions`).map((entry, i) => {
      const where = `${field}.matchExpressions[${i}]`;
      const expression = this.record(entry, where);
      const operator = this.string(expression.operator, `${where}.operator`);
      if (operator !== 'In' && operator !== 'NotIn' && operator !== 'Exists' && operator !== 'DoesNotExist') {
        this.fail(`${where}.operator`, `must be In, NotIn, Exists or DoesNotExist, got ${JSON.stringify(operator)}`);
      }
      const values = this.list(expression.values, `${where}.values`).map((v, j) => this.string(v, `${where}.values[${j}]`));
      if ((operator === 'In' || operator === 'NotIn') && values.length === 0) this.fail(`${where}.values`, `must not be empty for ${operator}`);
      if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) this.fail(`${where}.values`, `must be empty for ${operator}`);
      return { key: this.string(expression.key, `${where}.key`), operator, values } satisfies LabelSelectorRequirement;
    });
    if (Object.keys(matchLabels).length === 0 && matchExpressions.length === 0) return null;
    return { matchLabels, matchExpressions };
  }
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

/** Reads a NetworkLab object from the API (or its projection) into a Lab; throws LabSpecError on a bad spec. */
export function readLab(raw: unknown): Lab {
  if (!isRecord(raw) || !isRecord(raw.metadata)) throw new Error(`not a NetworkLab object: ${JSON.stringify(raw)?.slice(0, 200)}`);
  const metadata = raw.metadata;
  const namespace = String(metadata.namespace ?? '');
  const name = String(metadata.name ?? '');
  const key = labKey(namespace, name);
  const read = new SpecReader(key);
  const spec = read.record(raw.spec, 'spec');

  const checks =
    spec.checks === undefined
      ? [...DEFAULT_CHECKS]
      : read.list(spec.checks, 'spec.checks').map((check, i) => {
          const layer = read.string(check, `spec.checks[${i}]`);
          if (!(CHECK_NAMES as readonly string[]).includes(layer)) {
            read.fail(`spec.checks[${i}]`, `must be one of ${CHECK_NAMES.join(', ')}, got ${JSON.stringify(layer)}`);
          }
          return layer as CheckName;
        });
  if (checks.length === 0) read.fail('spec.checks', 'must name at least one layer');
  if (new Set(checks).size !== checks.length) read.fail('spec.checks', `must not repeat a layer, got ${checks.join(', ')}`);
  // kube-proxy runs in one mode: a second Service layer would always fail, or check the same one twice.
  const serviceChecks = checks.filter((c) => SERVICE_CHECKS.includes(c));
  if (serviceChecks.length > 1) read.fail('spec.checks', `must name at most one of ${SERVICE_CHECKS.join(', ')} (kube-proxy runs in one mode), got ${serviceChecks.join(', ')}`);

  const services = read.record(spec.services, 'spec.services');
  const listedNamespaces = read
    .list(services.namespaces, 'spec.services.namespaces')
    .map((ns, i) => read.string(ns, `spec.services.namespaces[${i}]`));
  const namespaces = listedNamespaces.length > 0 ? listedNamespaces : [...new Set([namespace, 'kube-system'])];

  const dnsQueries = read.list(spec.dnsQueries, 'spec.dnsQueries').map((entry, i): UserDnsQuery => {
    const where = `spec.dnsQueries[${i}]`;
    const query = read.record(entry, where);
    const type = query.type === undefined ? 'A' : read.string(query.type, `${where}.type`);
    if (!(DNS_QUERY_TYPES as readonly string[]).includes(type)) {
      read.fail(`${where}.type`, `must be one of ${DNS_QUERY_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
    }
    const result: UserDnsQuery = { name: read.string(query.name, `${where}.name`), type: type as UserDnsQuery['type'] };
    if (query.expect !== undefined) {
      result.expect = read.list(query.expect, `${where}.expect`).map((a, j) => read.string(a, `${where}.expect[${j}]`));
    }
    return result;
  });

  const generation = typeof metadata.generation === 'number' ? metadata.generation : 0;
  return {
    key,
    namespace,
    name,
    uid: String(metadata.uid ?? ''),
    generation,
    spec: {
      checks,
      nodeSelector: read.selector(spec.nodeSelector, 'spec.nodeSelector'),
      services: { namespaces, selector: read.selector(services.selector, 'spec.services.selector') },
      dnsQueries,
      intervalMs: read.duration(spec.interval, 'spec.interval', '60s', 10_000, 86_400_000),
      gracePeriodMs: read.duration(spec.gracePeriod, 'spec.gracePeriod', '30s', 0, 600_000),
    },
  };
}

/** Kubernetes label-selector semantics: every matchLabels pair and every expression must hold; null matches all. */
export function selectorMatches(selector: LabelSelector | null, labels: Record<string, string>): boolean {
  if (selector === null) return true;
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (labels[key] !== value) return false;
  }
  return selector.matchExpressions.every(({ key, operator, values }) => {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case 'In':
        return has && values.includes(labels[key]!);
      case 'NotIn':
        return !has || !values.includes(labels[key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}
