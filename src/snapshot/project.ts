// Pure projections: one raw Kubernetes or Calico object (plain JSON, as the API or
// `kubectl get -o yaml` gives it) in, one slim view out. Each reads only the fields the view
// needs, applies the API's defaults for absent fields, and throws a SnapshotError naming
// source, object and field when a field is malformed. `source` is the file name (or, for
// the operator, where the object came from) and appears first in every error message.
import { parseCorefile, type CorefileDirective, type CorefileServer } from './corefile.ts';
import { cidrFamily, Field } from './fields.ts';
import { parseYamlDocuments, YamlSyntaxError } from './yaml.ts';
import type {
  CalicoVersionView,
  ClusterDNSView,
  EncapMode,
  EndpointSliceView,
  EndpointView,
  FlannelNodeView,
  IPAMBlockView,
  IPPoolView,
  KubeProxyView,
  NodeView,
  PodView,
  Protocol,
  ServicePortView,
  ServiceType,
  ServiceView,
  WorkloadEndpointView,
} from './types.ts';

const protocols: readonly Protocol[] = ['TCP', 'UDP', 'SCTP'];
const encapModes: readonly EncapMode[] = ['Always', 'CrossSubnet', 'Never'];
const maxPort = 65535;

/** The label that ties an EndpointSlice to its Service. */
export const serviceNameLabel = 'kubernetes.io/service-name';

interface Metadata {
  root: Field;
  name: string;
  namespace: string;
  labels: Record<string, string>;
}

function readMetadata(raw: unknown, source: string): Metadata {
  const root = Field.of(raw, source);
  root.record();
  const metadata = root.child('metadata');
  return {
    root,
    name: metadata.child('name').string(),
    namespace: metadata.child('namespace').optionalString() ?? '',
    labels: metadata.child('labels').stringMap(),
  };
}

/** Like readMetadata, for namespaced kinds: metadata.namespace is required. */
function readNamespacedMetadata(raw: unknown, source: string): Metadata {
  const metadata = readMetadata(raw, source);
  metadata.root.at('metadata.namespace').string();
  return metadata;
}

export function projectNode(raw: unknown, source: string): NodeView {
  const { root, name, labels } = readMetadata(raw, source);
  const addresses = root.at('status.addresses').list().map((address) => ({
    type: address.child('type').string(),
    address: address.child('address').string(),
  }));
  const spec = root.child('spec');
  const podCIDRs = spec.child('podCIDRs').list().map((cidr) => cidr.cidr());
  const legacyPodCIDR = spec.child('podCIDR').stringOrEmpty() === null ? null : spec.child('podCIDR').cidr();
  if (podCIDRs.length === 0 && legacyPodCIDR !== null) podCIDRs.push(legacyPodCIDR);

  const annotations = root.at('metadata.annotations');
  const ipv4Address = annotations.child('projectcalico.org/IPv4Address');
  const ipipTunnelAddr = annotations.child('projectcalico.org/IPv4IPIPTunnelAddr');
  const vxlanTunnelAddr = annotations.child('projectcalico.org/IPv4VXLANTunnelAddr');
  const interfaces = annotations.child('projectcalico.org/Interfaces');
  const calico: NodeView['calico'] = {};
  if (!ipv4Address.absent) calico.ipv4Address = ipv4Address.cidr(4);
  if (!ipipTunnelAddr.absent) calico.ipipTunnelAddr = ipipTunnelAddr.ip(4);
  if (!vxlanTunnelAddr.absent) calico.vxlanTunnelAddr = vxlanTunnelAddr.ip(4);
  if (!interfaces.absent) {
    calico.interfaces = parseEmbeddedJson(interfaces, '[{"name":"eth0","addresses":["10.0.0.5"]}]')
      .list()
      .map((entry) => ({ name: entry.child('name').string(), addresses: entry.child('addresses').list().map((address) => address.ip()) }));
  }
  return { name, labels, addresses, podCIDRs, calico, flannel: projectFlannelAnnotations(annotations) };
}

/** The annotation prefix flanneld's Kubernetes subnet manager uses unless started with --kube-annotation-prefix. */
export const flannelAnnotationPrefix = 'flannel.alpha.coreos.com/';
const vxlanMaxVNI = 16777215;

/**
 * Flannel's annotations of one node, as flanneld (pkg/subnet/kube) writes them when it acquires the node's
 * lease; null when the node has none. backend-data is JSON: {"VNI":1,"VtepMAC":"…"} for VXLAN, "null" for host-gw.
 */
function projectFlannelAnnotations(annotations: Field): FlannelNodeView | null {
  const annotation = (name: string) => annotations.child(`${flannelAnnotationPrefix}${name}`);
  const names = ['kube-subnet-manager', 'backend-type', 'public-ip', 'backend-data'];
  if (names.every((name) => annotation(name).absent)) return null;
  const backendData = annotation('backend-data');
  const data = backendData.absent ? null : parseEmbeddedJson(backendData, '{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}');
  const vtepMAC = data?.absent === false ? data.child('VtepMAC') : null;
  if (vtepMAC && !vtepMAC.absent && !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(vtepMAC.string())) vtepMAC.fail('must be a MAC address such as aa:bb:cc:dd:ee:ff');
  return {
    kubeSubnetManager: annotation('kube-subnet-manager').value === 'true',
    backendType: annotation('backend-type').stringOrEmpty(),
    publicIP: annotation('public-ip').stringOrEmpty() === null ? null : annotation('public-ip').ip(4),
    vni: data?.absent === false ? data.child('VNI').optionalInteger(0, vxlanMaxVNI) : null,
    vtepMAC: vtepMAC?.absent === false ? vtepMAC.string() : null,
  };
}

/** An annotation holding JSON, parsed; errors name the annotation and show the expected shape. */
function parseEmbeddedJson(field: Field, example: string): Field {
  let parsed: unknown;
  try {
    parsed = JSON.parse(field.string());
  } catch {
    field.fail(`must be JSON such as ${example}`);
  }
  return new Field(field.where, field.path, parsed);
}

/** "10.244.25.22/32" or "10.244.25.22": the address (Calico writes pod IPs both ways). */
function addressOrHostCidr(field: Field): string {
  const text = field.string();
  const slash = text.indexOf('/');
  if (slash < 0) return field.ip();
  field.cidr();
  return text.slice(0, slash);
}

export function projectPod(raw: unknown, source: string): PodView {
  const { root, name, namespace, labels } = readNamespacedMetadata(raw, source);
  const spec = root.child('spec');
  const status = root.child('status');
  const podIPs = status
    .child('podIPs')
    .list()
    .map((entry) => entry.child('ip').ip());
  // Objects written before dual-stack (or by hand) carry only status.podIP.
  if (podIPs.length === 0 && status.child('podIP').stringOrEmpty() !== null) podIPs.push(status.child('podIP').ip());
  const readyCondition = status
    .child('conditions')
    .list()
    .find((condition) => condition.child('type').string() === 'Ready');
  return {
    namespace,
    name,
    nodeName: spec.child('nodeName').stringOrEmpty(),
    podIPs,
    hostname: spec.child('hostname').stringOrEmpty(),
    subdomain: spec.child('subdomain').stringOrEmpty(),
    hostNetwork: spec.child('hostNetwork').boolean(false),
    dnsPolicy: spec.child('dnsPolicy').oneOf(['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'], 'ClusterFirst'),
    ready: readyCondition?.child('status').oneOf(['True', 'False', 'Unknown']) === 'True',
    terminating: !root.at('metadata.deletionTimestamp').absent,
    // The API server sets Pending when it creates a pod, so a pod without status has not started.
    phase: status.child('phase').oneOf(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'], 'Pending'),
    labels,
    ...calicoPodAnnotations(root.at('metadata.annotations')),
  };
}

/**
 * The addresses Calico's CNI plugin recorded on the pod: cni.projectcalico.org/podIPs (comma-separated), else
 * cni.projectcalico.org/podIP, as libcalico-go's getPodIPs reads them; podIP "" means the plugin released them.
 */
function calicoPodAnnotations(annotations: Field): Pick<PodView, 'calicoPodIPs' | 'calicoNetworkReleased'> {
  const plural = annotations.child('cni.projectcalico.org/podIPs');
  const singular = annotations.child('cni.projectcalico.org/podIP');
  const chosen = plural.stringOrEmpty() !== null ? plural : singular.stringOrEmpty() !== null ? singular : null;
  const calicoPodIPs = chosen === null
    ? []
    : chosen.string().split(',').map((text) => addressOrHostCidr(new Field(chosen.where, chosen.path, text.trim())));
  return { calicoPodIPs, calicoNetworkReleased: singular.value === '' };
}

function projectServicePort(port: Field): ServicePortView {
  const targetPort = port.child('targetPort');
  return {
    name: port.child('name').stringOrEmpty() ?? '',
    protocol: port.child('protocol').oneOf(protocols, 'TCP'),
    port: port.child('port').integer(1, maxPort),
    targetPort: typeof targetPort.value === 'number' ? targetPort.integer(1, maxPort) : targetPort.optionalString(),
    nodePort: port.child('nodePort').optionalInteger(1, maxPort),
  };
}

/** The annotation that asks the EndpointSlice controller for topology hints, and the name it had before 1.27. */
const topologyModeAnnotation = 'service.kubernetes.io/topology-mode';
const legacyTopologyAnnotation = 'service.kubernetes.io/topology-aware-hints';

export function projectService(raw: unknown, source: string): ServiceView {
  const { root, name, namespace } = readNamespacedMetadata(raw, source);
  const spec = root.child('spec');
  const annotations = root.at('metadata.annotations');
  const type = spec.child('type').oneOf<ServiceType>(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'], 'ClusterIP');

  // spec.clusterIPs is the dual-stack list; older objects only have spec.clusterIP.
  let clusterIPFields = spec.child('clusterIPs').list();
  if (clusterIPFields.length === 0 && spec.child('clusterIP').stringOrEmpty() !== null) {
    clusterIPFields = [spec.child('clusterIP')];
  }
  const isExternalName = type === 'ExternalName';
  const headless = !isExternalName && clusterIPFields[0]?.value === 'None';
  const clusterIPs = isExternalName
    ? []
    : clusterIPFields.filter((field) => field.value !== 'None').map((field) => field.ip());

  const sessionAffinity = spec.child('sessionAffinity').oneOf(['None', 'ClientIP'], 'None');
  const sessionAffinityTimeoutSeconds =
    sessionAffinity === 'ClientIP'
      ? (spec.at('sessionAffinityConfig.clientIP.timeoutSeconds').optionalInteger(1, 86400) ?? 10800)
      : null;

  const loadBalancerIngressIPs = root
    .at('status.loadBalancer.ingress')
    .list()
    // ipMode Proxy means the load balancer proxies the traffic, so kube-proxy does not serve that IP;
    // entries with only a hostname have no IP to serve.
    .filter((ingress) => ingress.child('ipMode').value !== 'Proxy' && !ingress.child('ip').absent)
    .map((ingress) => ingress.child('ip').ip());

  const selector = spec.child('selector');
  return {
    namespace,
    name,
    type,
    clusterIPs,
    headless,
    ports: spec.child('ports').list().map(projectServicePort),
    selector: selector.absent ? null : selector.stringMap(),
    sessionAffinity,
    sessionAffinityTimeoutSeconds,
    externalTrafficPolicy: spec.child('externalTrafficPolicy').oneOf(['Cluster', 'Local'], 'Cluster'),
    internalTrafficPolicy: spec.child('internalTrafficPolicy').oneOf(['Cluster', 'Local'], 'Cluster'),
    externalIPs: spec.child('externalIPs').list().map((ip) => ip.ip()),
    loadBalancerIngressIPs,
    externalName: isExternalName ? spec.child('externalName').string() : null,
    publishNotReadyAddresses: spec.child('publishNotReadyAddresses').boolean(false),
    trafficDistribution: spec.child('trafficDistribution').stringOrEmpty(),
    topologyMode: (annotations.child(topologyModeAnnotation).absent ? annotations.child(legacyTopologyAnnotation) : annotations.child(topologyModeAnnotation)).stringOrEmpty(),
  };
}

function projectEndpoint(endpoint: Field, addressType: EndpointSliceView['addressType'], sliceNamespace: string): EndpointView {
  const addressFields = endpoint.child('addresses').list();
  if (addressFields.length === 0) endpoint.child('addresses').fail('must list at least one address');
  const addresses = addressFields.map((address) => {
    if (addressType === 'FQDN') return address.string();
    return address.ip(addressType === 'IPv4' ? 4 : 6);
  });
  const conditions = endpoint.child('conditions');
  // Nil conditions as kube-proxy reads them (pkg/proxy/endpointslicecache.go addEndpoints): ready nil is
  // true, serving nil is true (the API documents "same as ready"; kube-proxy does not), terminating nil is false.
  const targetRef = endpoint.child('targetRef');
  const hintNames = (list: string) => endpoint.at(`hints.${list}`).list().map((hint) => hint.child('name').string());
  return {
    addresses,
    ready: conditions.child('ready').boolean(true),
    serving: conditions.child('serving').boolean(true),
    terminating: conditions.child('terminating').boolean(false),
    hostname: endpoint.child('hostname').stringOrEmpty(),
    nodeName: endpoint.child('nodeName').stringOrEmpty(),
    zone: endpoint.child('zone').stringOrEmpty(),
    zoneHints: hintNames('forZones'),
    nodeHints: hintNames('forNodes'),
    targetRef: targetRef.absent
      ? null
      : {
          kind: targetRef.child('kind').string(),
          namespace: targetRef.child('namespace').optionalString() ?? sliceNamespace,
          name: targetRef.child('name').string(),
        },
  };
}

/**
 * A discovery.k8s.io/v1 EndpointSlice, or null when it has no kubernetes.io/service-name label:
 * kube-proxy and CoreDNS ignore such slices, so the model must too.
 */
export function projectEndpointSlice(raw: unknown, source: string): EndpointSliceView | null {
  const { root, name, namespace, labels } = readNamespacedMetadata(raw, source);
  const serviceName = labels[serviceNameLabel];
  if (serviceName === undefined || serviceName === '') return null;
  const addressType = root.child('addressType').oneOf(['IPv4', 'IPv6', 'FQDN']);
  return {
    namespace,
    name,
    serviceName,
    addressType,
    ports: root
      .child('ports')
      .list()
      .map((port) => ({
        name: port.child('name').stringOrEmpty() ?? '',
        protocol: port.child('protocol').oneOf(protocols, 'TCP'),
        // A nil port means "all ports" (a Service without ports).
        port: port.child('port').optionalInteger(1, maxPort),
      })),
    endpoints: root
      .child('endpoints')
      .list()
      .map((endpoint) => projectEndpoint(endpoint, addressType, namespace)),
  };
}

/** A Calico IPPool, crd.projectcalico.org/v1 (the Kubernetes datastore) or projectcalico.org/v3 (calicoctl). */
export function projectIPPool(raw: unknown, source: string): IPPoolView {
  const { root, name } = readMetadata(raw, source);
  const spec = root.child('spec');
  const cidr = spec.child('cidr').cidr();
  // Calico's defaults and limits: /26 blocks for IPv4 (20-32), /122 for IPv6 (116-128).
  const isIPv4 = cidrFamily(cidr) === 4;
  const blockSize = isIPv4
    ? (spec.child('blockSize').optionalInteger(20, 32) ?? 26)
    : (spec.child('blockSize').optionalInteger(116, 128) ?? 122);
  return {
    name,
    cidr,
    blockSize,
    ipipMode: spec.child('ipipMode').oneOf(encapModes, 'Never'),
    vxlanMode: spec.child('vxlanMode').oneOf(encapModes, 'Never'),
    disabled: spec.child('disabled').boolean(false),
  };
}

/** A Calico IPAMBlock (crd.projectcalico.org/v1); its spec.affinity "host:<node>" names the owning node. */
export function projectIPAMBlock(raw: unknown, source: string): IPAMBlockView {
  const { root } = readMetadata(raw, source);
  const spec = root.child('spec');
  const affinityField = spec.child('affinity');
  const affinity = affinityField.stringOrEmpty();
  let node: string | null = null;
  // Other affinity types (Calico's "virtual:") do not tie the block to a node.
  if (affinity?.startsWith('host:')) {
    node = affinity.slice('host:'.length);
    if (node === '') affinityField.fail('must name a node after "host:"');
  }
  return { cidr: spec.child('cidr').cidr(), node };
}

/**
 * A Calico BlockAffinity (crd.projectcalico.org/v1 or projectcalico.org/v3), or null unless its
 * state is confirmed: pending and pendingDeletion affinities do not own the block yet (or any more).
 */
export function projectBlockAffinity(raw: unknown, source: string): IPAMBlockView | null {
  const { root } = readMetadata(raw, source);
  const spec = root.child('spec');
  const cidr = spec.child('cidr').cidr();
  const node = spec.child('node').string();
  return spec.child('state').string() === 'confirmed' ? { cidr, node } : null;
}

/** A Calico WorkloadEndpoint (projectcalico.org/v3): the only record of a pod's real interface name. */
export function projectWorkloadEndpoint(raw: unknown, source: string): WorkloadEndpointView {
  const { root, namespace } = readNamespacedMetadata(raw, source);
  const spec = root.child('spec');
  return {
    namespace,
    pod: spec.child('pod').string(),
    node: spec.child('node').string(),
    interfaceName: spec.child('interfaceName').string(),
    ipNetworks: spec.child('ipNetworks').list().map((network) => network.cidr()),
  };
}

/** calico-node's build version ("v3.32.1", a pre-release "v3.33.0-0.dev-12-gabcdef"): a pre-release counts as its release. */
const calicoVersionPattern = /^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$/;

/**
 * Calico's ClusterInformation (crd.projectcalico.org/v1, or projectcalico.org/v3 from calicoctl): spec.calicoVersion,
 * which calico-node's startup writes (libcalico-go clientv3 ensureClusterInformation); null without one. A value
 * that is not a version is kept as written, with release null, so that the model can say what it could not read.
 */
export function projectClusterInformation(raw: unknown, source: string): CalicoVersionView | null {
  const { root } = readMetadata(raw, source);
  const version = root.at('spec.calicoVersion');
  if (version.absent || version.value === '') return null;
  const text = typeof version.value === 'string' ? version.value : JSON.stringify(version.value);
  const match = typeof version.value === 'string' ? calicoVersionPattern.exec(text) : null;
  return { where: root.where, text, release: match ? { major: Number(match[1]), minor: Number(match[2]) } : null };
}

/** A view plus the defaults it filled in, in plain words for snapshot.notes. */
export interface WithNotes<T> {
  view: T;
  notes: string[];
}

/** Parses the YAML document held in a ConfigMap data key; errors name the key and the line inside it. */
function parseEmbeddedYaml(field: Field): Field {
  let documents: unknown[];
  try {
    documents = parseYamlDocuments(field.string());
  } catch (error) {
    if (!(error instanceof YamlSyntaxError)) throw error;
    field.fail(`is ${error.message}`);
  }
  if (documents.length !== 1) field.fail(`must hold one YAML document, not ${documents.length}`);
  return new Field(field.where, field.path, documents[0]);
}

const NODE_PORT_ADDRESS_KEYWORDS = ['primary', 'localhost', 'all'];

/** kube-proxy's settings from ConfigMap kube-system/kube-proxy, data key config.conf (a KubeProxyConfiguration). */
export function projectKubeProxyConfig(raw: unknown, source: string): WithNotes<KubeProxyView> {
  const { root } = readNamespacedMetadata(raw, source);
  const config = parseEmbeddedYaml(root.at('data').child('config.conf'));
  config.record();
  const notes: string[] = [];
  let mode = config.child('mode').stringOrEmpty();
  if (mode === null) {
    mode = 'iptables';
    notes.push('kube-proxy config.conf leaves mode empty, so kube-proxy runs in its Linux default mode, iptables');
  } else {
    config.child('mode').oneOf(['iptables', 'ipvs', 'nftables']);
  }
  let scheduler = config.at('ipvs.scheduler').stringOrEmpty();
  if (scheduler === null) {
    scheduler = 'rr';
    if (mode === 'ipvs') notes.push('kube-proxy config.conf leaves ipvs.scheduler empty, so IPVS uses round robin (rr)');
  }
  const nodePortAddresses = config
    .child('nodePortAddresses')
    .list()
    // the keywords kube-proxy expands (primary, localhost, all) are kept as written; anything else is a CIDR
    .map((entry) => (typeof entry.value === 'string' && NODE_PORT_ADDRESS_KEYWORDS.includes(entry.value) ? entry.value : entry.cidr()));
  const clusterCIDRs = (config.child('clusterCIDR').stringOrEmpty() ?? '').split(',').filter((cidr) => cidr !== '');
  const clusterCIDRField = config.child('clusterCIDR');
  clusterCIDRs.forEach((cidr) => new Field(clusterCIDRField.where, clusterCIDRField.path, cidr).cidr());
  // nftables mode reads its own section; both default to bit 14 (mark 0x4000) and no masqueradeAll.
  const section = config.child(mode === 'nftables' ? 'nftables' : 'iptables');
  const masqueradeBit = section.child('masqueradeBit').optionalInteger(0, 31) ?? 14;
  const masqueradeAll = section.child('masqueradeAll').boolean(false);
  const localhostNodePorts = config.at('iptables.localhostNodePorts').boolean(true);
  return { view: { mode, scheduler, nodePortAddresses, clusterCIDRs, masqueradeBit, masqueradeAll, localhostNodePorts }, notes };
}

/** ServiceCIDR (networking.k8s.io/v1): the CIDRs ClusterIPs are allocated from. */
export function projectServiceCIDR(raw: unknown, source: string): string[] {
  const root = Field.of(raw, source);
  return root.at('spec.cidrs').list().map((cidr) => cidr.cidr());
}

export type CoreDNSSettings = Pick<ClusterDNSView, 'clusterDomain' | 'podsMode' | 'ttl'>;

/** "dns://cluster.local.:53" -> "cluster.local" */
function zoneName(key: string): string {
  return key
    .replace(/^[a-z]+:\/\//, '')
    .replace(/:\d+$/, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

/**
 * CoreDNS's kubernetes plugin settings from ConfigMap kube-system/coredns, data key Corefile:
 * the cluster domain (the plugin's first zone), the pods mode and the record TTL. When the plugin's
 * block leaves pods or ttl out, CoreDNS's own defaults apply (pods disabled, ttl 5).
 */
export function projectCoreDNSConfig(raw: unknown, source: string): WithNotes<CoreDNSSettings> {
  const { root } = readNamespacedMetadata(raw, source);
  const corefileField: Field = root.at('data.Corefile');
  // A Field for a value read from the Corefile, so errors name the line: data.Corefile line 9 ttl ...
  const setting = (line: number, label: string, value: unknown): Field =>
    new Field(corefileField.where, `${corefileField.path} line ${line}${label === '' ? '' : ` ${label}`}`, value);
  let servers: CorefileServer[];
  try {
    servers = parseCorefile(corefileField.string());
  } catch (error) {
    corefileField.fail(`cannot be read: ${(error as Error).message}`);
  }
  let plugin: CorefileDirective | undefined;
  let serverKeys: string[] = [];
  for (const server of servers) {
    plugin = server.directives.find((directive) => directive.name === 'kubernetes');
    serverKeys = server.keys;
    if (plugin !== undefined) break;
  }
  if (plugin === undefined) corefileField.fail('has no kubernetes plugin, so CoreDNS serves no cluster names');

  // Without zones of its own the plugin serves its server block's zones.
  const zones = (plugin.args.length > 0 ? plugin.args : serverKeys).map(zoneName);
  const clusterDomain = zones[0];
  if (clusterDomain === undefined || clusterDomain === '') {
    const pluginLine: Field = setting(plugin.line, '', null);
    pluginLine.fail('the kubernetes plugin must name the cluster domain as its first zone');
  }

  const notes: string[] = [];
  const option = (name: string): CorefileDirective | undefined => plugin.block.find((entry) => entry.name === name);
  const pods = option('pods');
  const ttl = option('ttl');
  let podsMode: CoreDNSSettings['podsMode'] = 'disabled';
  if (pods === undefined) notes.push('the Corefile sets no "pods" option, so CoreDNS answers no pod names (pods disabled)');
  else podsMode = setting(pods.line, 'pods', pods.args[0]).oneOf(['disabled', 'insecure', 'verified']);
  let ttlSeconds = 5;
  if (ttl === undefined) notes.push('the Corefile sets no "ttl" option, so CoreDNS answers with its default TTL of 5 seconds');
  else ttlSeconds = setting(ttl.line, 'ttl', Number(ttl.args[0])).integer(0, 3600);
  return { view: { clusterDomain, podsMode, ttl: ttlSeconds }, notes };
}
