import { ndotsOf, searchListExpansion } from '../../src/trace/search-list.ts';

const KUBELET_SEARCH = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];
const names = (name: string, ndots: number, flavor?: 'glibc' | 'musl') => searchListExpansion(name, KUBELET_SEARCH, ndots, flavor).map((q) => q.name);

describe('searchListExpansion', () => {
  test('fewer dots than ndots: every search domain first, the name as it is last', () => {
    expect(names('kube-dns.kube-system', 5)).toEqual([
      'kube-dns.kube-system.default.svc.cluster.local',
      'kube-dns.kube-system.svc.cluster.local',
      'kube-dns.kube-system.cluster.local',
      'kube-dns.kube-system',
    ]);
  });

  test('at least ndots dots: glibc asks the name as it is first, then the search domains', () => {
    expect(names('example.com', 1)).toEqual(['example.com', 'example.com.default.svc.cluster.local', 'example.com.svc.cluster.local', 'example.com.cluster.local']);
    // the same name under kubelet's ndots:5 goes through the search list first: the classic 4 wasted queries
    expect(names('example.com', 5)[0]).toBe('example.com.default.svc.cluster.local');
  });

  test('musl with enough dots asks only the name itself', () => {
    expect(names('example.com', 1, 'musl')).toEqual(['example.com']);
    expect(names('web', 5, 'musl')).toEqual(['web.default.svc.cluster.local', 'web.svc.cluster.local', 'web.cluster.local', 'web']);
  });

  test('a trailing dot makes the name absolute', () => {
    expect(searchListExpansion('web.default.svc.cluster.local.', KUBELET_SEARCH, 5)).toEqual([{ name: 'web.default.svc.cluster.local', how: 'as-is' }]);
  });

  test('search domains are marked, lower-cased, and "." or duplicates add nothing', () => {
    const queries = searchListExpansion('Web', ['Default.svc.cluster.local.', '.', 'default.svc.cluster.local'], 5);
    expect(queries).toEqual([
      { name: 'web.default.svc.cluster.local', how: 'search', domain: 'default.svc.cluster.local' },
      { name: 'web', how: 'as-is' },
    ]);
  });

  test('an empty name is refused', () => {
    expect(() => searchListExpansion(' ', KUBELET_SEARCH, 5)).toThrow('empty name');
  });
});

describe('ndotsOf', () => {
  test('absent is 1, a value is a number, above 15 counts as 15, garbage is refused', () => {
    expect(ndotsOf({})).toBe(1);
    expect(ndotsOf({ ndots: '5' })).toBe(5);
    expect(ndotsOf({ ndots: '30' })).toBe(15);
    expect(() => ndotsOf({ ndots: 'x' })).toThrow('ndots:x');
  });
});
