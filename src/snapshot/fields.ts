// Checked reads from raw API objects. Every value is read through a Field that knows its source,
// its object and its path, so a bad value always fails with one message naming all three:
//   pods.yaml: Pod default/web-1: status.podIPs[0].ip must be an IP address
import { isIP } from 'node:net';

/** A cluster object or snapshot folder that netlab cannot read; the message says what and where. */
export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "Pod default/web-1", "Node node-1", or "Pod (no metadata.name)" before the name is known to be usable. */
export function describeObject(raw: unknown): string {
  const kind = isRecord(raw) && typeof raw.kind === 'string' && raw.kind !== '' ? raw.kind : 'object';
  const metadata = isRecord(raw) && isRecord(raw.metadata) ? raw.metadata : {};
  const name = typeof metadata.name === 'string' && metadata.name !== '' ? metadata.name : null;
  const namespace = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : null;
  if (name === null) return `${kind} (no metadata.name)`;
  return namespace === null ? `${kind} ${name}` : `${kind} ${namespace}/${name}`;
}

const plainKey = /^[A-Za-z_$][\w$]*$/;

export class Field {
  readonly value: unknown;
  /** "status.podIPs[0].ip"; "" for the object itself */
  readonly path: string;
  /** "pods.yaml: Pod default/web-1" */
  readonly where: string;

  constructor(where: string, path: string, value: unknown) {
    this.where = where;
    this.path = path;
    this.value = value;
  }

  /** The root Field of an object read from `source`. */
  static of(raw: unknown, source: string): Field {
    return new Field(`${source}: ${describeObject(raw)}`, '', raw);
  }

  /** A child by key or index; keys that are not identifiers print as ["projectcalico.org/IPv4Address"]. */
  child(key: string | number): Field {
    let path: string;
    if (typeof key === 'number') path = `${this.path}[${key}]`;
    else if (plainKey.test(key)) path = this.path === '' ? key : `${this.path}.${key}`;
    else path = `${this.path}[${JSON.stringify(key)}]`;
    let value: unknown;
    if (typeof key === 'number') value = Array.isArray(this.value) ? this.value[key] : undefined;
    else value = isRecord(this.value) ? this.value[key] : undefined;
    return new Field(this.where, path, value);
  }

  /** A descendant by dotted path of identifier keys, e.g. at('spec.sessionAffinityConfig.clientIP'). */
  at(dottedPath: string): Field {
    return dottedPath.split('.').reduce<Field>((field, key) => field.child(key), this);
  }

  fail(problem: string): never {
    const subject = this.path === '' ? '' : `${this.path} `;
    throw new SnapshotError(`${this.where}: ${subject}${problem}`);
  }

  /** Absent means missing or null: the API drops empty fields and kubectl prints some as null. */
  get absent(): boolean {
    return this.value === undefined || this.value === null;
  }

  string(): string {
    if (this.absent) this.fail('is required');
    if (typeof this.value !== 'string' || this.value === '') this.fail('must be a non-empty string');
    return this.value;
  }

  optionalString(): string | null {
    return this.absent ? null : this.string();
  }

  /** Like optionalString, but "" also counts as not set (the API's empty default for some strings). */
  stringOrEmpty(): string | null {
    return this.value === '' ? null : this.optionalString();
  }

  boolean(fallback: boolean): boolean {
    if (this.absent) return fallback;
    if (typeof this.value !== 'boolean') this.fail('must be true or false');
    return this.value;
  }

  integer(min: number, max: number): number {
    if (this.absent) this.fail('is required');
    if (typeof this.value !== 'number' || !Number.isInteger(this.value) || this.value < min || this.value > max) {
      this.fail(`must be an integer from ${min} to ${max}`);
    }
    return this.value;
  }

  optionalInteger(min: number, max: number): number | null {
    return this.absent ? null : this.integer(min, max);
  }

  /** One of `allowed`; `fallback` when absent (the API default), required when no fallback is given. */
  oneOf<T extends string>(allowed: readonly T[], fallback?: T): T {
    if (this.absent && fallback !== undefined) return fallback;
    if (this.absent) this.fail('is required');
    if (!allowed.includes(this.value as T)) this.fail(`must be one of ${allowed.join(', ')}`);
    return this.value as T;
  }

  /** The elements of a list; absent means empty. */
  list(): Field[] {
    if (this.absent) return [];
    if (!Array.isArray(this.value)) this.fail('must be a list');
    return this.value.map((_, index) => this.child(index));
  }

  record(): Record<string, unknown> {
    if (this.absent) this.fail('is required');
    if (!isRecord(this.value)) this.fail('must be a mapping');
    return this.value;
  }

  /** A string-to-string map such as labels; absent means empty. */
  stringMap(): Record<string, string> {
    if (this.absent) return {};
    const entries = Object.keys(this.record()).map((key): [string, string] => {
      const value = this.child(key);
      if (typeof value.value !== 'string') value.fail('must be a string');
      return [key, value.value as string];
    });
    return Object.fromEntries(entries);
  }

  /** An IP address; of the given family when `family` is set. */
  ip(family?: 4 | 6): string {
    if (this.absent) this.fail('is required');
    const found = typeof this.value === 'string' ? isIP(this.value) : 0;
    if (found === 0) this.fail('must be an IP address');
    if (family !== undefined && found !== family) this.fail(`must be an IPv${family} address`);
    return this.value as string;
  }

  /** "10.244.0.0/16" or "fd00::/64": an address and a prefix length that fits its family (`family` when set). */
  cidr(family?: 4 | 6): string {
    if (this.absent) this.fail('is required');
    const found = typeof this.value === 'string' ? cidrFamily(this.value) : null;
    if (found === null) this.fail('must be a CIDR such as 10.244.0.0/16');
    if (family !== undefined && found !== family) this.fail(`must be an IPv${family} CIDR`);
    return this.value as string;
  }
}

/** 4 or 6 for a well-formed CIDR, else null. */
export function cidrFamily(text: string): 4 | 6 | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const family = isIP(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(prefix)) return null;
  const bits = family === 4 ? 32 : 128;
  return Number(prefix) <= bits ? (family as 4 | 6) : null;
}
