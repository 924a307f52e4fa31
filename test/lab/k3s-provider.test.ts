// The k3s conformance provider's pure parts (test/conformance/k3s-cluster.ts): which provider a machine gets,
// the kube-proxy image for a k3s release, and that netlab reads the kube-proxy ConfigMap it deploys as IPVS.
// The provider itself needs a container engine; test/integration/k3s-kube-proxy.test.ts sends its objects to a
// real apiserver.
import { chooseProvider } from '../conformance/engine.ts';
import { k3sServerArgs, kubeProxyImage, kubeProxyObjects } from '../conformance/k3s-cluster.ts';
import { projectKubeProxyConfig } from '../../src/snapshot/project.ts';

describe('the conformance provider a machine gets', () => {
  test('NETLAB_CONFORMANCE_PROVIDER wins; otherwise kind where it runs, else k3s', () => {
    expect(chooseProvider('k3s', true)).toBe('k3s');
    expect(chooseProvider('kind', false)).toBe('kind');
    expect(chooseProvider(undefined, true)).toBe('kind');
    expect(chooseProvider(undefined, false)).toBe('k3s');
    expect(chooseProvider('', false)).toBe('k3s');
  });

  test('an unknown provider is an error naming the variable and the choices', () => {
    expect(() => chooseProvider('minikube', true)).toThrow('NETLAB_CONFORMANCE_PROVIDER: unknown provider "minikube"; choose kind or k3s');
  });
});

describe('the k3s provider', () => {
  test('kube-proxy of the same Kubernetes release as the k3s image', () => {
    expect(kubeProxyImage('rancher/k3s:v1.37.2-k3s1')).toBe('registry.k8s.io/kube-proxy:v1.37.2');
    expect(kubeProxyImage('docker.io/rancher/k3s:v1.36.5-k3s2')).toBe('registry.k8s.io/kube-proxy:v1.36.5');
    expect(() => kubeProxyImage('rancher/k3s:latest')).toThrow('NETLAB_K3S_IMAGE: cannot read a Kubernetes version from "rancher/k3s:latest"');
  });

  test('the server runs without its built-in kube-proxy, on the addresses the scenarios name', () => {
    const args = k3sServerArgs('t0ken');
    expect(args[0]).toBe('server');
    expect(args).toEqual(expect.arrayContaining(['--disable-kube-proxy', '--flannel-backend=vxlan', '--token=t0ken', '--service-cidr=10.96.0.0/12', '--cluster-dns=10.96.0.10', '--cluster-cidr=10.244.0.0/16']));
  });

  test('netlab reads the kube-proxy ConfigMap it deploys as IPVS with round robin, over the Pod network', () => {
    const configMap = kubeProxyObjects('registry.k8s.io/kube-proxy:v1.37.2', '172.18.0.2').find((o) => (o as { kind: string }).kind === 'ConfigMap');
    const { view } = projectKubeProxyConfig(configMap, 'k3s provider');
    expect(view).toMatchObject({ mode: 'ipvs', scheduler: 'rr', clusterCIDRs: ['10.244.0.0/16'] });
  });

  test('kube-proxy reaches the apiserver directly, since 10.96.0.1 is what it programs', () => {
    const daemonSet = kubeProxyObjects('registry.k8s.io/kube-proxy:v1.37.2', '172.18.0.2').find((o) => (o as { kind: string }).kind === 'DaemonSet') as {
      spec: { template: { spec: { hostNetwork: boolean; containers: { image: string; env: { name: string; value?: string }[] }[] } } };
    };
    const pod = daemonSet.spec.template.spec;
    expect(pod.hostNetwork).toBe(true);
    expect(pod.containers[0]!.image).toBe('registry.k8s.io/kube-proxy:v1.37.2');
    expect(pod.containers[0]!.env.filter((e) => e.name.startsWith('KUBERNETES_SERVICE_'))).toEqual([
      { name: 'KUBERNETES_SERVICE_HOST', value: '172.18.0.2' },
      { name: 'KUBERNETES_SERVICE_PORT', value: '6443' },
    ]);
  });
});
