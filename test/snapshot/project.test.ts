import { describe, expect, test } from '@jest/globals';
import { SnapshotError } from '../../src/snapshot/fields.ts';
import {
  projectBlockAffinity,
  projectClusterInformation,
  projectEndpointSlice,
  projectIPAMBlock,
  projectIPPool,
  projectNode,
  projectPod,
  projectService,
  projectWorkloadEndpoint,
} from '../../src/snapshot/project.ts';

// Minimal raw objects in the shape the API returns; each test adds only the fields it is about.
const pod = (spec: object = {}, status: object = {}, metadata: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default', ...metadata },
  spec,
  status,
});
const service = (spec: object, status: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default' },
  spec,
  status,
});
const slice = (fields: object, labels: Record<string, string> = { 'kubernetes.io/service-name': 'web' }) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'web-abcde', namespace: 'default', labels },
  addressType: 'IPv4',
  ...fields,
});

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotError);
    return (error as Error).message;
  }
  throw new Error('expected a SnapshotError');
}

describe('projectNode', () => {
  test('reads addresses, podCIDRs, labels and the Calico annotations', () => {
    const node = projectNode(
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: 'node-1',
          labels: { 'kubernetes.io/hostname': 'node-1' },
          annotations: {
            'projectcalico.org/IPv4Address': '10.130.29.80/24',
            'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.0.1',
            'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.0.2',
          },
        },
        spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24', 'fd00:10:244::/64'] },
        status: { addresses: [{ type: 'InternalIP', address: '10.130.29.80' }, { type: 'Hostname', address: 'node-1' }] },
      },
      'nodes.yaml',
    );
    expect(node).toEqual({
      name: 'node-1',
      labels: { 'kubernetes.io/hostname': 'node-1' },
      addresses: [
        { type: 'InternalIP', address: '10.130.29.80' },
        { type: 'Hostname', address: 'node-1' },
      ],
      podCIDRs: ['10.244.0.0/24', 'fd00:10:244::/64'],
      calico: { ipv4Address: '10.130.29.80/24', ipipTunnelAddr: '10.244.0.1', vxlanTunnelAddr: '10.244.0.2' },
      flannel: null,
    });
  });

  test('reads Calico\'s projectcalico.org/Interfaces annotation (value from the real Calico v3.32.1 capture)', () => {
    // test/fixtures/calico-v3.32.1/vxlan/snapshot/cluster.yaml, node-1
    const annotations = { 'projectcalico.org/Interfaces': '[{"name":"eth0","addresses":["10.0.2.15","10.130.29.80"]}]' };
    const node = projectNode({ kind: 'Node', metadata: { name: 'node-1', annotations } }, 'nodes.yaml');
    expect(node.calico.interfaces).toEqual([{ name: 'eth0', addresses: ['10.0.2.15', '10.130.29.80'] }]);
    const bad = { kind: 'Node', metadata: { name: 'node-1', annotations: { 'projectcalico.org/Interfaces': 'eth0' } } };
    expect(errorOf(() => projectNode(bad, 'nodes.yaml'))).toBe(
      'nodes.yaml: Node node-1: metadata.annotations["projectcalico.org/Interfaces"] must be JSON such as [{"name":"eth0","addresses":["10.0.0.5"]}]',
    );
  });

  test('reads flannel\'s annotations as flanneld\'s Kubernetes subnet manager writes them (vxlan and host-gw)', () => {
    // The shapes of pkg/subnet/kube/kube.go AcquireLease; the MAC is made up. Real flannel output replaces this later.
    const vxlan = {
      'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"5a:1c:9e:3f:20:01"}',
      'flannel.alpha.coreos.com/backend-type': 'vxlan',
      'flannel.alpha.coreos.com/kube-subnet-manager': 'true',
      'flannel.alpha.coreos.com/public-ip': '10.130.29.80',
    };
    expect(projectNode({ kind: 'Node', metadata: { name: 'node-1', annotations: vxlan } }, 'nodes.yaml').flannel).toEqual({
      kubeSubnetManager: true, backendType: 'vxlan', publicIP: '10.130.29.80', vni: 1, vtepMAC: '5a:1c:9e:3f:20:01',
    });
    const hostGw = { ...vxlan, 'flannel.alpha.coreos.com/backend-data': 'null', 'flannel.alpha.coreos.com/backend-type': 'host-gw' };
    expect(projectNode({ kind: 'Node', metadata: { name: 'node-1', annotations: hostGw } }, 'nodes.yaml').flannel).toEqual({
      kubeSubnetManager: true, backendType: 'host-gw', publicIP: '10.130.29.80', vni: null, vtepMAC: null,
    });
  });

  test.each([
    [{ 'flannel.alpha.coreos.com/public-ip': '10.130.29' }, 'metadata.annotations["flannel.alpha.coreos.com/public-ip"] must be an IP address'],
    [{ 'flannel.alpha.coreos.com/backend-data': '{VNI:1}' }, 'metadata.annotations["flannel.alpha.coreos.com/backend-data"] must be JSON such as {"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}'],
    [{ 'flannel.alpha.coreos.com/backend-data': '{"VNI":1,"VtepMAC":"5a1c"}' }, 'metadata.annotations["flannel.alpha.coreos.com/backend-data"].VtepMAC must be a MAC address such as aa:bb:cc:dd:ee:ff'],
  ])('a malformed flannel annotation is named: %j', (annotations, message) => {
    expect(errorOf(() => projectNode({ kind: 'Node', metadata: { name: 'node-1', annotations } }, 'nodes.yaml'))).toBe(`nodes.yaml: Node node-1: ${message}`);
  });

  test('falls back to spec.podCIDR and leaves out absent Calico annotations', () => {
    const node = projectNode({ kind: 'Node', metadata: { name: 'node-2' }, spec: { podCIDR: '10.244.1.0/24' } }, 'nodes.yaml');
    expect(node.podCIDRs).toEqual(['10.244.1.0/24']);
    expect(node.calico).toEqual({});
    expect(node.flannel).toBeNull();
    expect(node.addresses).toEqual([]);
  });

  test('names the annotation when it is not an IPv4 CIDR', () => {
    const raw = { kind: 'Node', metadata: { name: 'node-1', annotations: { 'projectcalico.org/IPv4Address': '10.130.29.80' } } };
    expect(errorOf(() => projectNode(raw, 'nodes.yaml'))).toBe(
      'nodes.yaml: Node node-1: metadata.annotations["projectcalico.org/IPv4Address"] must be a CIDR such as 10.244.0.0/16',
    );
  });
});

describe('projectPod', () => {
  test('applies the API defaults to a bare pod', () => {
    expect(projectPod(pod(), 'pods.yaml')).toEqual({
      namespace: 'default',
      name: 'web-1',
      nodeName: null,
      podIPs: [],
      hostname: null,
      subdomain: null,
      hostNetwork: false,
      dnsPolicy: 'ClusterFirst',
      ready: false,
      terminating: false,
      phase: 'Pending',
      labels: {},
      calicoPodIPs: [],
      calicoNetworkReleased: false,
    });
  });

  test('reads Calico\'s pod IP annotations: podIPs, else podIP, CIDR or plain (values as in the real Calico v3.32.1 capture)', () => {
    const withAnnotations = (annotations: Record<string, string>) => projectPod(pod({}, {}, { annotations }), 'pods.yaml');
    expect(withAnnotations({ 'cni.projectcalico.org/podIP': '10.244.25.22/32', 'cni.projectcalico.org/podIPs': '10.244.25.22/32,fd00::16/128' }).calicoPodIPs).toEqual(['10.244.25.22', 'fd00::16']);
    expect(withAnnotations({ 'cni.projectcalico.org/podIP': '10.244.25.22' }).calicoPodIPs).toEqual(['10.244.25.22']);
    expect(withAnnotations({ 'cni.projectcalico.org/podIP': '', 'cni.projectcalico.org/podIPs': '' })).toMatchObject({ calicoPodIPs: [], calicoNetworkReleased: true });
    expect(errorOf(() => withAnnotations({ 'cni.projectcalico.org/podIP': '10.244.25/32' }))).toBe(
      'pods.yaml: Pod default/web-1: metadata.annotations["cni.projectcalico.org/podIP"] must be a CIDR such as 10.244.0.0/16',
    );
  });

  test('reads a running, ready, terminating pod', () => {
    const view = projectPod(
      pod(
        { nodeName: 'node-1', hostname: 'web-1', subdomain: 'web', hostNetwork: false, dnsPolicy: 'ClusterFirstWithHostNet' },
        {
          phase: 'Running',
          podIP: '10.244.0.5',
          podIPs: [{ ip: '10.244.0.5' }, { ip: 'fd00::5' }],
          conditions: [
            { type: 'PodScheduled', status: 'True' },
            { type: 'Ready', status: 'True' },
          ],
        },
        { labels: { app: 'web' }, deletionTimestamp: '2021-09-27T02:00:00Z' },
      ),
      'pods.yaml',
    );
    expect(view).toMatchObject({
      nodeName: 'node-1',
      podIPs: ['10.244.0.5', 'fd00::5'],
      hostname: 'web-1',
      subdomain: 'web',
      dnsPolicy: 'ClusterFirstWithHostNet',
      ready: true,
      terminating: true,
      phase: 'Running',
      labels: { app: 'web' },
    });
  });

  test('falls back to status.podIP; Ready False is not ready', () => {
    const view = projectPod(pod({}, { podIP: '10.244.0.6', conditions: [{ type: 'Ready', status: 'False' }] }), 'pods.yaml');
    expect(view.podIPs).toEqual(['10.244.0.6']);
    expect(view.ready).toBe(false);
  });

  test.each([
    [pod({}, { podIPs: [{ ip: '10.244.0.300' }] }), 'pods.yaml: Pod default/web-1: status.podIPs[0].ip must be an IP address'],
    [pod({ dnsPolicy: 'Cluster' }), 'pods.yaml: Pod default/web-1: spec.dnsPolicy must be one of ClusterFirst, ClusterFirstWithHostNet, Default, None'],
    [pod({ hostNetwork: 'yes' }), 'pods.yaml: Pod default/web-1: spec.hostNetwork must be true or false'],
    [pod({}, {}, { namespace: undefined }), 'pods.yaml: Pod web-1: metadata.namespace is required'],
    [pod({}, {}, { name: '' }), 'pods.yaml: Pod (no metadata.name): metadata.name must be a non-empty string'],
    [pod({}, {}, { labels: { app: 3 } }), 'pods.yaml: Pod default/web-1: metadata.labels.app must be a string'],
  ])('rejects a bad field, naming file, object and field (%#)', (raw, message) => {
    expect(errorOf(() => projectPod(raw, 'pods.yaml'))).toBe(message);
  });
});

describe('projectService', () => {
  test('applies the API defaults to a ClusterIP service', () => {
    const view = projectService(
      service({ clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 53, targetPort: 53 }], selector: { app: 'dns' } }),
      'services.yaml',
    );
    expect(view).toEqual({
      namespace: 'default',
      name: 'web',
      type: 'ClusterIP',
      clusterIPs: ['10.96.0.10'],
      headless: false,
      ports: [{ name: '', protocol: 'TCP', port: 53, targetPort: 53, nodePort: null }],
      selector: { app: 'dns' },
      sessionAffinity: 'None',
      sessionAffinityTimeoutSeconds: null,
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
      externalIPs: [],
      loadBalancerIngressIPs: [],
      externalName: null,
      publishNotReadyAddresses: false,
      trafficDistribution: null,
      topologyMode: null,
    });
  });

  test('topology: spec.trafficDistribution, and the topology-mode annotation (or its older name)', () => {
    expect(projectService(service({ trafficDistribution: 'PreferClose' }), 's')).toMatchObject({ trafficDistribution: 'PreferClose', topologyMode: null });
    const annotated = (annotations: Record<string, string>) => ({ ...service({}), metadata: { name: 'web', namespace: 'default', annotations } });
    expect(projectService(annotated({ 'service.kubernetes.io/topology-mode': 'Auto' }), 's').topologyMode).toBe('Auto');
    expect(projectService(annotated({ 'service.kubernetes.io/topology-aware-hints': 'auto' }), 's').topologyMode).toBe('auto');
  });

  test('headless service: no cluster IPs, headless true', () => {
    const view = projectService(service({ clusterIP: 'None', clusterIPs: ['None'] }), 'services.yaml');
    expect(view.clusterIPs).toEqual([]);
    expect(view.headless).toBe(true);
    expect(view.selector).toBeNull();
  });

  test('dual-stack clusterIPs; spec.clusterIP alone when clusterIPs is absent', () => {
    expect(projectService(service({ clusterIPs: ['10.96.0.20', 'fd00::20'] }), 's').clusterIPs).toEqual(['10.96.0.20', 'fd00::20']);
    expect(projectService(service({ clusterIP: '10.96.0.21' }), 's').clusterIPs).toEqual(['10.96.0.21']);
  });

  test('ClientIP affinity defaults its timeout to 10800 seconds, or reads it', () => {
    expect(projectService(service({ sessionAffinity: 'ClientIP' }), 's').sessionAffinityTimeoutSeconds).toBe(10800);
    const configured = service({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } });
    expect(projectService(configured, 's').sessionAffinityTimeoutSeconds).toBe(600);
  });

  test('LoadBalancer: node ports, policies, external IPs, ingress IPs without ipMode Proxy or hostname-only entries', () => {
    const view = projectService(
      service(
        {
          type: 'LoadBalancer',
          clusterIPs: ['10.96.5.5'],
          ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 }],
          externalTrafficPolicy: 'Local',
          internalTrafficPolicy: 'Local',
          externalIPs: ['192.0.2.10'],
          publishNotReadyAddresses: true,
        },
        {
          loadBalancer: {
            ingress: [{ ip: '198.51.100.1' }, { ip: '198.51.100.2', ipMode: 'Proxy' }, { ip: '198.51.100.3', ipMode: 'VIP' }, { hostname: 'lb.example' }],
          },
        },
      ),
      's',
    );
    expect(view).toMatchObject({
      type: 'LoadBalancer',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 }],
      externalTrafficPolicy: 'Local',
      internalTrafficPolicy: 'Local',
      externalIPs: ['192.0.2.10'],
      loadBalancerIngressIPs: ['198.51.100.1', '198.51.100.3'],
      publishNotReadyAddresses: true,
    });
  });

  test('ExternalName: the name, and no cluster IPs', () => {
    const view = projectService(service({ type: 'ExternalName', externalName: 'db.example.com' }), 's');
    expect(view).toMatchObject({ type: 'ExternalName', externalName: 'db.example.com', clusterIPs: [], headless: false });
  });

  test.each([
    [service({ ports: [{ port: 70000 }] }), 'spec.ports[0].port must be an integer from 1 to 65535'],
    [service({ ports: [{ port: 53, protocol: 'ICMP' }] }), 'spec.ports[0].protocol must be one of TCP, UDP, SCTP'],
    [service({ clusterIPs: ['10.96.0.x'] }), 'spec.clusterIPs[0] must be an IP address'],
    [service({ type: 'ExternalName' }), 'spec.externalName is required'],
    [service({ externalTrafficPolicy: 'Node' }), 'spec.externalTrafficPolicy must be one of Cluster, Local'],
    [service({}, { loadBalancer: { ingress: [{ ip: 'lb' }] } }), 'status.loadBalancer.ingress[0].ip must be an IP address'],
  ])('rejects a bad field (%#)', (raw, field) => {
    expect(errorOf(() => projectService(raw, 'services.yaml'))).toBe(`services.yaml: Service default/web: ${field}`);
  });
});

describe('projectEndpointSlice', () => {
  test('nil conditions as kube-proxy reads them: ready true, serving true (not "same as ready"), terminating false; hints; nil port', () => {
    const view = projectEndpointSlice(
      slice({
        ports: [{ name: 'https', port: 6443 }, { port: null }],
        endpoints: [
          { addresses: ['10.130.29.80'] },
          { addresses: ['10.244.0.9'], conditions: { ready: false } },
          {
            addresses: ['10.244.0.10'],
            conditions: { ready: false, serving: true, terminating: true },
            hostname: 'web-0',
            nodeName: 'node-1',
            zone: 'zone-a',
            hints: { forZones: [{ name: 'zone-a' }], forNodes: [{ name: 'node-1' }] },
            targetRef: { kind: 'Pod', name: 'web-0' },
          },
        ],
      }),
      'endpointslices.yaml',
    );
    expect(view).toEqual({
      namespace: 'default',
      name: 'web-abcde',
      serviceName: 'web',
      addressType: 'IPv4',
      ports: [
        { name: 'https', protocol: 'TCP', port: 6443 },
        { name: '', protocol: 'TCP', port: null },
      ],
      endpoints: [
        { addresses: ['10.130.29.80'], ready: true, serving: true, terminating: false, hostname: null, nodeName: null, zone: null, zoneHints: [], nodeHints: [], targetRef: null },
        // serving nil is true even when ready is false (pkg/proxy/endpointslicecache.go)
        { addresses: ['10.244.0.9'], ready: false, serving: true, terminating: false, hostname: null, nodeName: null, zone: null, zoneHints: [], nodeHints: [], targetRef: null },
        {
          addresses: ['10.244.0.10'],
          ready: false,
          serving: true,
          terminating: true,
          hostname: 'web-0',
          nodeName: 'node-1',
          zone: 'zone-a',
          zoneHints: ['zone-a'],
          nodeHints: ['node-1'],
          // targetRef without a namespace is in the slice's namespace
          targetRef: { kind: 'Pod', namespace: 'default', name: 'web-0' },
        },
      ],
    });
  });

  test('a slice without the service-name label is not projected', () => {
    expect(projectEndpointSlice(slice({}, {}), 'endpointslices.yaml')).toBeNull();
  });

  test.each([
    [slice({ endpoints: [{ addresses: ['fd00::1'] }] }), 'endpoints[0].addresses[0] must be an IPv4 address'],
    [slice({ endpoints: [{ addresses: [] }] }), 'endpoints[0].addresses must list at least one address'],
    [slice({ endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: 'true' } }] }), 'endpoints[0].conditions.ready must be true or false'],
    [slice({ addressType: 'IPv5' }), 'addressType must be one of IPv4, IPv6, FQDN'],
    [slice({ ports: [{ port: 0 }] }), 'ports[0].port must be an integer from 1 to 65535'],
  ])('rejects a bad field (%#)', (raw, field) => {
    expect(errorOf(() => projectEndpointSlice(raw, 'endpointslices.yaml'))).toBe(`endpointslices.yaml: EndpointSlice default/web-abcde: ${field}`);
  });
});

describe('Calico objects', () => {
  const pool = (spec: object, apiVersion = 'crd.projectcalico.org/v1') => ({ apiVersion, kind: 'IPPool', metadata: { name: 'pool' }, spec });

  test('IPPool defaults: /26 blocks for IPv4, /122 for IPv6, no encapsulation, enabled', () => {
    expect(projectIPPool(pool({ cidr: '10.244.0.0/16' }), 'calico.yaml')).toEqual({
      name: 'pool',
      cidr: '10.244.0.0/16',
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      disabled: false,
    });
    expect(projectIPPool(pool({ cidr: 'fd00:10:244::/48' }, 'projectcalico.org/v3'), 'calico.yaml').blockSize).toBe(122);
  });

  test('IPPool with every field set', () => {
    const view = projectIPPool(pool({ cidr: '10.244.0.0/16', blockSize: 24, ipipMode: 'CrossSubnet', vxlanMode: 'Always', disabled: true }), 'c');
    expect(view).toMatchObject({ blockSize: 24, ipipMode: 'CrossSubnet', vxlanMode: 'Always', disabled: true });
  });

  test.each([
    [pool({ cidr: '10.244.0.0/33' }), 'spec.cidr must be a CIDR such as 10.244.0.0/16'],
    [pool({ cidr: '10.244.0.0/16', blockSize: 19 }), 'spec.blockSize must be an integer from 20 to 32'],
    [pool({ cidr: '10.244.0.0/16', ipipMode: 'always' }), 'spec.ipipMode must be one of Always, CrossSubnet, Never'],
  ])('IPPool rejects a bad field (%#)', (raw, field) => {
    expect(errorOf(() => projectIPPool(raw, 'calico.yaml'))).toBe(`calico.yaml: IPPool pool: ${field}`);
  });

  const block = (spec: object) => ({ apiVersion: 'crd.projectcalico.org/v1', kind: 'IPAMBlock', metadata: { name: '10-244-1-0-24' }, spec });

  test('IPAMBlock: the node from "host:<node>", none for other or missing affinities', () => {
    expect(projectIPAMBlock(block({ cidr: '10.244.1.0/24', affinity: 'host:node-2' }), 'c')).toEqual({ cidr: '10.244.1.0/24', node: 'node-2' });
    expect(projectIPAMBlock(block({ cidr: '10.244.1.0/24', affinity: 'virtual:lb' }), 'c').node).toBeNull();
    expect(projectIPAMBlock(block({ cidr: '10.244.1.0/24' }), 'c').node).toBeNull();
    expect(errorOf(() => projectIPAMBlock(block({ cidr: '10.244.1.0/24', affinity: 'host:' }), 'calico.yaml'))).toBe(
      'calico.yaml: IPAMBlock 10-244-1-0-24: spec.affinity must name a node after "host:"',
    );
  });

  test('BlockAffinity counts only when confirmed', () => {
    const affinity = (state: string) => ({
      apiVersion: 'crd.projectcalico.org/v1',
      kind: 'BlockAffinity',
      metadata: { name: 'node-2-10-244-1-0-24' },
      spec: { cidr: '10.244.1.0/24', node: 'node-2', state },
    });
    expect(projectBlockAffinity(affinity('confirmed'), 'c')).toEqual({ cidr: '10.244.1.0/24', node: 'node-2' });
    expect(projectBlockAffinity(affinity('pending'), 'c')).toBeNull();
  });

  test('ClusterInformation: calicoVersion as written and its release; an unreadable one keeps its text, with release null', () => {
    const info = (spec: object, apiVersion = 'crd.projectcalico.org/v1') => ({ apiVersion, kind: 'ClusterInformation', metadata: { name: 'default' }, spec });
    expect(projectClusterInformation(info({ calicoVersion: 'v3.32.1', clusterType: 'k8s,kdd' }), 'calico.yaml')).toEqual({
      where: 'calico.yaml: ClusterInformation default', text: 'v3.32.1', release: { major: 3, minor: 32 },
    });
    expect(projectClusterInformation(info({ calicoVersion: 'v3.33.0-0.dev-12-gabcdef' }, 'projectcalico.org/v3'), 'c')!.release).toEqual({ major: 3, minor: 33 });
    expect(projectClusterInformation(info({ calicoVersion: '3.31' }), 'c')!.release).toEqual({ major: 3, minor: 31 });
    expect(projectClusterInformation(info({ calicoVersion: 'master' }), 'c')).toEqual({ where: 'c: ClusterInformation default', text: 'master', release: null });
    expect(projectClusterInformation(info({ calicoVersion: 3.32 }), 'c')).toMatchObject({ text: '3.32', release: null }); // a YAML number, not Calico's text
    expect(projectClusterInformation(info({ clusterType: 'k8s,kdd' }), 'c')).toBeNull();
    expect(projectClusterInformation(info({ calicoVersion: '' }), 'c')).toBeNull();
  });

  test('WorkloadEndpoint: pod, node, interface and networks', () => {
    const view = projectWorkloadEndpoint(
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'WorkloadEndpoint',
        metadata: { name: 'node--1-k8s-web--1-eth0', namespace: 'default' },
        spec: { pod: 'web-1', node: 'node-1', interfaceName: 'cali0123456789a', ipNetworks: ['10.244.0.5/32'] },
      },
      'c',
    );
    expect(view).toEqual({ namespace: 'default', pod: 'web-1', node: 'node-1', interfaceName: 'cali0123456789a', ipNetworks: ['10.244.0.5/32'] });
  });

  test('WorkloadEndpoint without an interface name is rejected', () => {
    const raw = { kind: 'WorkloadEndpoint', metadata: { name: 'wep', namespace: 'default' }, spec: { pod: 'web-1', node: 'node-1' } };
    expect(errorOf(() => projectWorkloadEndpoint(raw, 'weps.yaml'))).toBe('weps.yaml: WorkloadEndpoint default/wep: spec.interfaceName is required');
  });
});
