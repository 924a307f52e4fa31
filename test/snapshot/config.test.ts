import { describe, expect, test } from '@jest/globals';
import { parseCorefile } from '../../src/snapshot/corefile.ts';
import { SnapshotError } from '../../src/snapshot/fields.ts';
import { projectCoreDNSConfig, projectKubeProxyConfig } from '../../src/snapshot/project.ts';

const configMap = (name: string, data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'kube-system' },
  data,
});

// kubeadm's default Corefile (cmd/kubeadm/app/phases/addons/dns), as kubeadm 1.22 writes it.
const kubeadmCorefile = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotError);
    return (error as Error).message;
  }
  throw new Error('expected a SnapshotError');
}

describe('parseCorefile', () => {
  test('reads server blocks, directives, nested blocks and line numbers', () => {
    const [server, ...rest] = parseCorefile(kubeadmCorefile);
    expect(rest).toEqual([]);
    expect(server?.keys).toEqual(['.:53']);
    expect(server?.directives.map((directive) => directive.name)).toEqual([
      'errors', 'health', 'ready', 'kubernetes', 'prometheus', 'forward', 'cache', 'loop', 'reload', 'loadbalance',
    ]);
    const kubernetes = server?.directives[3];
    expect(kubernetes).toMatchObject({ args: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'], line: 7 });
    expect(kubernetes?.block.map(({ name, args, line }) => ({ name, args, line }))).toEqual([
      { name: 'pods', args: ['insecure'], line: 8 },
      { name: 'fallthrough', args: ['in-addr.arpa', 'ip6.arpa'], line: 9 },
      { name: 'ttl', args: ['30'], line: 10 },
    ]);
  });

  test('one-line blocks, comments and several servers', () => {
    const servers = parseCorefile('# cluster DNS\nexample.org:53 { forward . 8.8.8.8 }\n.:53 {\n  kubernetes k8s.local { pods verified } # here\n}\n');
    expect(servers.map((server) => server.keys)).toEqual([['example.org:53'], ['.:53']]);
    expect(servers[1]?.directives[0]).toMatchObject({ name: 'kubernetes', args: ['k8s.local'], line: 4 });
    expect(servers[1]?.directives[0]?.block[0]).toMatchObject({ name: 'pods', args: ['verified'] });
  });

  test('unbalanced braces are named by line', () => {
    expect(() => parseCorefile('.:53 {\n  kubernetes cluster.local {\n    pods insecure\n}\n')).toThrow('line 1: "{" is never closed');
    expect(() => parseCorefile('}\n')).toThrow('line 1: "}" without an open block');
  });
});

describe('projectCoreDNSConfig', () => {
  test("kubeadm's Corefile: cluster.local, pods insecure, ttl 30, nothing defaulted", () => {
    expect(projectCoreDNSConfig(configMap('coredns', { Corefile: kubeadmCorefile }), 'configmaps.yaml')).toEqual({
      view: { clusterDomain: 'cluster.local', podsMode: 'insecure', ttl: 30 },
      notes: [],
    });
  });

  test("CoreDNS's own defaults when the block leaves pods and ttl out, each noted", () => {
    const result = projectCoreDNSConfig(configMap('coredns', { Corefile: '.:53 {\n  kubernetes Corp.Local. in-addr.arpa\n}\n' }), 'c');
    expect(result.view).toEqual({ clusterDomain: 'corp.local', podsMode: 'disabled', ttl: 5 });
    expect(result.notes).toHaveLength(2);
    expect(result.notes.join('\n')).toMatch(/pods disabled[\s\S]*TTL of 5 seconds/);
  });

  test('a kubernetes plugin without zones serves its server block zone', () => {
    const result = projectCoreDNSConfig(configMap('coredns', { Corefile: 'cluster.local:53 {\n  kubernetes\n}\n' }), 'c');
    expect(result.view.clusterDomain).toBe('cluster.local');
  });

  test.each([
    ['.:53 {\n  forward . /etc/resolv.conf\n}\n', 'data.Corefile has no kubernetes plugin, so CoreDNS serves no cluster names'],
    ['.:53 {\n  kubernetes\n}\n', 'data.Corefile line 2 the kubernetes plugin must name the cluster domain as its first zone'],
    ['.:53 {\n  kubernetes cluster.local {\n    ttl 4000\n  }\n}\n', 'data.Corefile line 3 ttl must be an integer from 0 to 3600'],
    ['.:53 {\n  kubernetes cluster.local {\n    pods secure\n  }\n}\n', 'data.Corefile line 3 pods must be one of disabled, insecure, verified'],
    ['.:53 {\n  kubernetes cluster.local {\n', 'data.Corefile cannot be read: line 2: "{" is never closed'],
  ])('rejects a bad Corefile, naming the line (%#)', (corefile, problem) => {
    expect(errorOf(() => projectCoreDNSConfig(configMap('coredns', { Corefile: corefile }), 'configmaps.yaml'))).toBe(
      `configmaps.yaml: ConfigMap kube-system/coredns: ${problem}`,
    );
  });
});

describe('projectKubeProxyConfig', () => {
  const kubeProxy = (config: string) => configMap('kube-proxy', { 'config.conf': config });

  test('reads mode, scheduler and nodePortAddresses', () => {
    const config = 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  scheduler: lc\nnodePortAddresses: [10.130.29.0/24, primary, localhost, all]\n';
    expect(projectKubeProxyConfig(kubeProxy(config), 'c')).toEqual({
      view: { mode: 'ipvs', scheduler: 'lc', nodePortAddresses: ['10.130.29.0/24', 'primary', 'localhost', 'all'], clusterCIDRs: [], masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true },
      notes: [],
    });
  });

  test('reads what the iptables and nftables modes need: clusterCIDR, masquerade bit and masqueradeAll of the mode, localhostNodePorts', () => {
    const config = 'mode: nftables\nclusterCIDR: 10.244.0.0/16,fd00:10:244::/56\nnftables:\n  masqueradeBit: 15\n  masqueradeAll: true\niptables:\n  masqueradeBit: 3\n  localhostNodePorts: false\n';
    expect(projectKubeProxyConfig(kubeProxy(config), 'c').view).toMatchObject({
      mode: 'nftables', clusterCIDRs: ['10.244.0.0/16', 'fd00:10:244::/56'], masqueradeBit: 15, masqueradeAll: true, localhostNodePorts: false,
    });
    expect(errorOf(() => projectKubeProxyConfig(kubeProxy('clusterCIDR: 10.244.0.0/33\n'), 'c'))).toMatch(/clusterCIDR/);
  });

  test("kubeadm's empty scheduler means rr, noted; nodePortAddresses null means none", () => {
    const result = projectKubeProxyConfig(kubeProxy('mode: ipvs\nipvs:\n  scheduler: ""\nnodePortAddresses: null\n'), 'c');
    expect(result.view).toEqual({ mode: 'ipvs', scheduler: 'rr', nodePortAddresses: [], clusterCIDRs: [], masqueradeBit: 14, masqueradeAll: false, localhostNodePorts: true });
    expect(result.notes).toEqual(['kube-proxy config.conf leaves ipvs.scheduler empty, so IPVS uses round robin (rr)']);
  });

  test("an empty mode is kube-proxy's Linux default, iptables, noted", () => {
    const result = projectKubeProxyConfig(kubeProxy('mode: ""\n'), 'c');
    expect(result.view.mode).toBe('iptables');
    expect(result.notes).toEqual(['kube-proxy config.conf leaves mode empty, so kube-proxy runs in its Linux default mode, iptables']);
  });

  test.each([
    ['mode: ipvs\nipvs: [\n', /^configmaps\.yaml: ConfigMap kube-system\/kube-proxy: data\["config\.conf"\] is invalid YAML at line 3, column 1: /],
    ['mode: userspace\n', /data\["config\.conf"\]\.mode must be one of iptables, ipvs, nftables$/],
    ['mode: ipvs\nnodePortAddresses: [10.0.0.1]\n', /data\["config\.conf"\]\.nodePortAddresses\[0\] must be a CIDR/],
  ])('rejects a bad config.conf (%#)', (config, message) => {
    expect(errorOf(() => projectKubeProxyConfig(kubeProxy(config), 'configmaps.yaml'))).toMatch(message);
  });

  test('a kube-proxy ConfigMap without config.conf is rejected', () => {
    expect(errorOf(() => projectKubeProxyConfig(configMap('kube-proxy', {}), 'configmaps.yaml'))).toBe(
      'configmaps.yaml: ConfigMap kube-system/kube-proxy: data["config.conf"] is required',
    );
  });
});
