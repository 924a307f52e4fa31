// kind-config.yaml against kind's v1alpha4 schema (test/lab/kind-schema.ts), and against the rest of the
// lab: the Calico pool, the harness's Kubernetes release, the seed cluster's shape.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { kindConfigFor } from '../../src/lab/lab.ts';
import { validateKindConfig, validateKindConfigText } from './kind-schema.ts';

const root = new URL('../../', import.meta.url);
const configText = readFileSync(new URL('kind-config.yaml', root), 'utf8');
const config = parse(configText) as {
  name: string;
  nodes: { role: string; image: string }[];
  networking: Record<string, unknown>;
  kubeadmConfigPatches: string[];
};

/** kind-config.yaml with one line replaced: the same file with a single mistake in it. */
function withLine(from: string, to: string): string {
  if (!configText.includes(from)) throw new Error(`kind-config.yaml has no ${JSON.stringify(from)}: update this test`);
  return configText.replace(from, to);
}

describe('kind-config.yaml against kind v1alpha4', () => {
  test('passes the schema and kind\'s value rules', () => {
    expect(validateKindConfigText(configText)).toEqual([]);
  });

  test('a misspelled field is rejected, with the path and the field meant', () => {
    const errors = validateKindConfigText(withLine('kubeProxyMode: ipvs', 'kubeProxyMod: ipvs'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^networking\.kubeProxyMod: unknown field .*did you mean "kubeProxyMode"\?$/);
  });

  test('a misspelled node field is rejected at its index', () => {
    const typo = configText.replace(/(  - role: worker\n    )image:/, '$1imgae:');
    expect(validateKindConfigText(typo)).toEqual([expect.stringMatching(/^nodes\[1\]\.imgae: unknown field .*did you mean "image"\?$/)]);
  });

  test('wrong types and values are rejected with their paths', () => {
    const errors = validateKindConfigText(withLine('disableDefaultCNI: true', 'disableDefaultCNI: "yes"'));
    expect(errors).toEqual(['networking.disableDefaultCNI: must be true or false, not string "yes"']);
    expect(validateKindConfigText(withLine('kubeProxyMode: ipvs', 'kubeProxyMode: ipvsadm'))).toEqual([
      'networking.kubeProxyMode: must be one of iptables, ipvs, nftables, none, not string "ipvsadm"',
    ]);
    expect(validateKindConfigText(withLine('podSubnet: 10.244.0.0/16', 'podSubnet: 10.244.0.0/33'))).toEqual([
      'networking.podSubnet: "10.244.0.0/33" is not a CIDR',
    ]);
    expect(validateKindConfigText(withLine('- role: control-plane', '- role: master'))).toEqual([
      'nodes[0].role: must be one of control-plane, worker, not string "master"',
      'nodes: must have at least one control-plane node',
    ]);
  });

  test('a duplicated key is rejected, as kind\'s YAML decoder does', () => {
    expect(validateKindConfigText(withLine('  kubeProxyMode: ipvs\n', '  kubeProxyMode: ipvs\n  kubeProxyMode: iptables\n'))[0]).toMatch(/^not valid YAML: .*unique/i);
  });

  test('a kubeadm patch that would match nothing is rejected', () => {
    expect(validateKindConfigText(withLine('kind: KubeProxyConfiguration', 'kind: KubeproxyConfiguration'))).toEqual([
      'kubeadmConfigPatches[0]: kind generates no KubeproxyConfiguration; the patch would match nothing',
    ]);
    expect(validateKindConfigText(withLine('apiVersion: kubeproxy.config.k8s.io/v1alpha1', 'apiVersion: kubeproxy.config.k8s.io/v1'))).toEqual([
      'kubeadmConfigPatches[0]: kind writes KubeProxyConfiguration as kubeproxy.config.k8s.io/v1alpha1, so apiVersion "kubeproxy.config.k8s.io/v1" would match nothing',
    ]);
  });

  test('the validator knows every v1alpha4 field (a full config with all of them passes)', () => {
    const everything = {
      kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', name: 'all-fields',
      nodes: [{
        role: 'control-plane', image: 'kindest/node:v1.37.0', labels: { tier: 'a' },
        extraMounts: [{ containerPath: '/a', hostPath: '/b', readOnly: true, selinuxRelabel: false, propagation: 'HostToContainer' }],
        extraPortMappings: [{ containerPort: 80, hostPort: 8080, listenAddress: '127.0.0.1', protocol: 'TCP' }],
        kubeadmConfigPatches: ['kind: InitConfiguration\n'],
        kubeadmConfigPatchesJSON6902: [{ group: 'kubeadm.k8s.io', version: 'v1beta4', kind: 'ClusterConfiguration', patch: '[]' }],
      }],
      networking: {
        ipFamily: 'dual', apiServerAddress: '127.0.0.1', apiServerPort: 6443, podSubnet: '10.244.0.0/16,fd00:10:244::/56',
        serviceSubnet: '10.96.0.0/16,fd00:10:96::/112', disableDefaultCNI: true, kubeProxyMode: 'nftables', dnsSearch: ['example.test'],
      },
      featureGates: { SomeGate: true }, runtimeConfig: { 'api/alpha': 'false' },
      kubeadmConfigPatches: ['kind: ClusterConfiguration\n'], kubeadmConfigPatchesJSON6902: [],
      containerdConfigPatches: ['[plugins]\n'], containerdConfigPatchesJSON6902: ['[]'],
    };
    expect(validateKindConfig(everything)).toEqual([]);
  });
});

describe('the configuration lab up --proxy-mode gives kind', () => {
  test.each(['nftables', 'iptables'] as const)('%s: valid, and kind-config.yaml with only kubeProxyMode changed', (mode) => {
    const text = kindConfigFor(configText, mode);
    expect(validateKindConfigText(text)).toEqual([]);
    const changed = parse(text) as typeof config;
    expect(changed.networking.kubeProxyMode).toBe(mode);
    expect({ ...changed, networking: { ...changed.networking, kubeProxyMode: 'ipvs' } }).toEqual(config);
    expect(text).toContain(`with kube-proxy in ${mode} mode (netlab lab up --proxy-mode ${mode})`);
  });

  test('ipvs, the file\'s own mode, is the file byte for byte', () => {
    expect(kindConfigFor(configText, 'ipvs')).toBe(configText);
  });
});

describe('kind-config.yaml fits the lab', () => {
  test('three nodes like the seed cluster: one control plane, two workers', () => {
    expect(config.nodes.map((n) => n.role)).toEqual(['control-plane', 'worker', 'worker']);
  });

  test('no default CNI, kube-proxy in IPVS mode with the rr scheduler, the seed\'s subnets', () => {
    expect(config.networking).toMatchObject({ disableDefaultCNI: true, kubeProxyMode: 'ipvs', podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12' });
    const proxy = config.kubeadmConfigPatches.map((p) => parse(p) as { kind?: string; ipvs?: { scheduler?: string } }).find((p) => p.kind === 'KubeProxyConfiguration');
    expect(proxy?.ipvs?.scheduler).toBe('rr');
  });

  test('every node runs the same image, pinned by digest, of the Kubernetes minor release the harness builds', () => {
    const images = new Set(config.nodes.map((n) => n.image));
    expect(images.size).toBe(1);
    const [image] = [...images];
    const m = /^kindest\/node:v(\d+)\.(\d+)\.(\d+)@sha256:[0-9a-f]{64}$/.exec(image ?? '');
    expect(m).not.toBeNull();
    const harness = readFileSync(new URL('harness/build/components.sh', root), 'utf8');
    const built = /K8S_VERSION:-(\d+)\.(\d+)\.(\d+)/.exec(harness);
    expect(built).not.toBeNull();
    expect(`${m![1]}.${m![2]}`).toBe(`${built![1]}.${built![2]}`);
  });

  test('Calico\'s pool is the podSubnet, with IPIP always and /24 blocks', () => {
    const patch = parse(readFileSync(new URL('manifests/calico/calico-node-ippool.yaml', root), 'utf8')) as {
      kind: string; metadata: { name: string; namespace: string };
      spec: { template: { spec: { containers: { name: string; env: { name: string; value: string }[] }[] } } };
    };
    expect(patch).toMatchObject({ kind: 'DaemonSet', metadata: { name: 'calico-node', namespace: 'kube-system' } });
    const env = Object.fromEntries(patch.spec.template.spec.containers.find((c) => c.name === 'calico-node')!.env.map((e) => [e.name, e.value]));
    expect(env).toEqual({
      CALICO_IPV4POOL_CIDR: config.networking.podSubnet,
      CALICO_IPV4POOL_BLOCK_SIZE: '24',
      CALICO_IPV4POOL_IPIP: 'Always',
      CALICO_IPV4POOL_VXLAN: 'Never',
    });
  });
});
