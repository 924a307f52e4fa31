// The stub resolver's search-list expansion: which names a pod's resolver asks, in order, for one lookup.
// Sources: glibc resolv/res_query.c (__res_context_search), musl src/network/lookup_name.c
// (name_from_dns_search), resolv.conf(5) for ndots (default 1, capped at 15).

export type ResolverFlavor = 'glibc' | 'musl';

export interface ResolverQuery {
  /** the fully qualified name sent, lower case, without the trailing dot */
  name: string;
  /** 'search': the name with a search domain appended; 'as-is': the name itself */
  how: 'search' | 'as-is';
  /** the search domain appended, for 'search' */
  domain?: string;
}

const MAX_NDOTS = 15;

/** resolv.conf's ndots option as a number: absent means 1, values above 15 count as 15. */
export function ndotsOf(options: Record<string, string | null>): number {
  const raw = options.ndots;
  if (raw === undefined || raw === null) return 1;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`resolv.conf option ndots:${raw} is not a whole number`);
  return Math.min(value, MAX_NDOTS);
}

/**
 * Every name the resolver may send for `name`, in the order it sends them; it stops at the first that
 * answers with records (NXDOMAIN, and NOERROR without records, move on to the next).
 * - A trailing dot makes the name absolute: only the name itself.
 * - glibc: with at least `ndots` dots the name itself first, then each search domain appended; with fewer,
 *   each search domain appended first, then the name itself last.
 * - musl: with at least `ndots` dots, only the name itself; with fewer, the search domains, then the name.
 * A search domain "." (kubelet's for hostNetwork pods without a resolv.conf) adds nothing new.
 */
export function searchListExpansion(name: string, search: readonly string[], ndots: number, flavor: ResolverFlavor = 'glibc'): ResolverQuery[] {
  const trimmed = name.trim().toLowerCase();
  if (trimmed === '' || trimmed === '.') throw new Error(`cannot resolve the empty name ${JSON.stringify(name)}`);
  const asIs: ResolverQuery = { name: trimmed.replace(/\.$/, ''), how: 'as-is' };
  if (trimmed.endsWith('.')) return [asIs];
  const dots = trimmed.split('.').length - 1;
  const enough = dots >= Math.min(ndots, MAX_NDOTS);
  const searched: ResolverQuery[] = search
    .map((domain) => domain.toLowerCase().replace(/\.$/, ''))
    .filter((domain) => domain !== '')
    .map((domain) => ({ name: `${trimmed}.${domain}`, how: 'search', domain }));
  const queries = enough ? (flavor === 'musl' ? [asIs] : [asIs, ...searched]) : [...searched, asIs];
  const seen = new Set<string>();
  return queries.filter((q) => !seen.has(q.name) && seen.add(q.name));
}
