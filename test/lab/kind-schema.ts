// A validator for kind's cluster configuration, API version kind.x-k8s.io/v1alpha4.
//
// The field set and types follow sigs.k8s.io/kind v0.33.0 pkg/apis/config/v1alpha4/types.go; kind decodes
// the file strictly (yaml.v3 with KnownFields), so an unknown field fails `kind create cluster`, and so it
// fails here. The value rules follow the same release's pkg/internal/apis/config/validate.go (roles, IP
// family, proxy mode, ports, subnets, at least one control plane). Written from reading those files.
import { isIP } from 'node:net';
import { parse } from 'yaml';

type FieldType =
  | 'string'
  | 'bool'
  | 'int32'
  | { enum: readonly string[] }
  | { list: FieldType }
  | { map: 'string' | 'bool' }
  | { object: Schema };

type Schema = Readonly<Record<string, FieldType>>;

const patchJSON6902: Schema = { group: 'string', version: 'string', kind: 'string', patch: 'string' };

const mount: Schema = {
  containerPath: 'string',
  hostPath: 'string',
  readOnly: 'bool',
  selinuxRelabel: 'bool',
  propagation: { enum: ['None', 'HostToContainer', 'Bidirectional'] },
};

const portMapping: Schema = {
  containerPort: 'int32',
  hostPort: 'int32',
  listenAddress: 'string',
  protocol: { enum: ['TCP', 'UDP', 'SCTP'] },
};

const node: Schema = {
  role: { enum: ['control-plane', 'worker'] },
  image: 'string',
  labels: { map: 'string' },
  extraMounts: { list: { object: mount } },
  extraPortMappings: { list: { object: portMapping } },
  kubeadmConfigPatches: { list: 'string' },
  kubeadmConfigPatchesJSON6902: { list: { object: patchJSON6902 } },
};

const networking: Schema = {
  ipFamily: { enum: ['ipv4', 'ipv6', 'dual'] },
  apiServerPort: 'int32',
  apiServerAddress: 'string',
  podSubnet: 'string',
  serviceSubnet: 'string',
  disableDefaultCNI: 'bool',
  // "none" is accepted too: validate.go allows NoneProxyMode (no kube-proxy at all)
  kubeProxyMode: { enum: ['iptables', 'ipvs', 'nftables', 'none'] },
  dnsSearch: { list: 'string' },
};

export const CLUSTER_SCHEMA: Schema = {
  kind: 'string',
  apiVersion: 'string',
  name: 'string',
  nodes: { list: { object: node } },
  networking: { object: networking },
  featureGates: { map: 'bool' },
  runtimeConfig: { map: 'string' },
  kubeadmConfigPatches: { list: 'string' },
  kubeadmConfigPatchesJSON6902: { list: { object: patchJSON6902 } },
  containerdConfigPatches: { list: 'string' },
  containerdConfigPatchesJSON6902: { list: 'string' },
};

/** The documents kind generates for kubeadm, by kind, with the API versions it writes them in (kubeadm/config.go). */
const KUBEADM_TARGETS: Readonly<Record<string, readonly string[]>> = {
  ClusterConfiguration: ['kubeadm.k8s.io/v1beta2', 'kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta4'],
  InitConfiguration: ['kubeadm.k8s.io/v1beta2', 'kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta4'],
  JoinConfiguration: ['kubeadm.k8s.io/v1beta2', 'kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta4'],
  KubeletConfiguration: ['kubelet.config.k8s.io/v1beta1'],
  KubeProxyConfiguration: ['kubeproxy.config.k8s.io/v1alpha1'],
};

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

function suggestion(field: string, known: string[]): string {
  const best = known.map((k) => [k, editDistance(field, k)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(field.length / 4)) ? `; did you mean "${best[0]}"?` : '';
}

function checkValue(value: unknown, type: FieldType, path: string, errors: string[]): void {
  if (type === 'string') {
    // yaml.v3 stores any scalar in a string field ("1.0", "true"), so only collections are wrong here.
    if (value !== null && typeof value === 'object') errors.push(`${path}: must be a string, not ${describe(value)}`);
  } else if (type === 'bool') {
    if (typeof value !== 'boolean') errors.push(`${path}: must be true or false, not ${describe(value)}`);
  } else if (type === 'int32') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
      errors.push(`${path}: must be a 32-bit integer, not ${describe(value)}`);
    }
  } else if ('enum' in type) {
    if (typeof value !== 'string' || !type.enum.includes(value)) errors.push(`${path}: must be one of ${type.enum.join(', ')}, not ${describe(value)}`);
  } else if ('list' in type) {
    if (value === null) return; // an explicit null is an empty list for yaml.v3
    if (!Array.isArray(value)) errors.push(`${path}: must be a list, not ${describe(value)}`);
    else value.forEach((item, i) => checkValue(item, type.list, `${path}[${i}]`, errors));
  } else if ('map' in type) {
    if (value === null) return;
    if (!isObject(value)) errors.push(`${path}: must be a mapping, not ${describe(value)}`);
    else for (const [k, v] of Object.entries(value)) checkValue(v, type.map, `${path}.${k}`, errors);
  } else {
    checkObject(value, type.object, path, errors);
  }
}

function checkObject(value: unknown, schema: Schema, path: string, errors: string[]): void {
  if (value === null) return;
  if (!isObject(value)) {
    errors.push(`${path || 'the document'}: must be a mapping, not ${describe(value)}`);
    return;
  }
  const known = Object.keys(schema);
  for (const [field, v] of Object.entries(value)) {
    const where = path ? `${path}.${field}` : field;
    const type = schema[field];
    if (!type) errors.push(`${where}: unknown field (kind's v1alpha4 schema has ${known.join(', ')})${suggestion(field, known)}`);
    else checkValue(v, type, where, errors);
  }
}

function checkPort(value: unknown, path: string, errors: string[]): void {
  if (typeof value === 'number' && (value < -1 || value > 65535)) errors.push(`${path}: ${value} is not a port (-1 to 65535)`);
}

/** validate.go's validateSubnets: comma-separated CIDRs, one per family, matching ipFamily. */
function checkSubnets(value: unknown, family: string, path: string, errors: string[]): void {
  if (value === undefined) return; // kind fills in a default
  const cidrs = String(value).split(',');
  const families: number[] = [];
  for (const cidr of cidrs) {
    const [ip, bits, extra] = cidr.split('/');
    const version = ip ? isIP(ip) : 0;
    const max = version === 4 ? 32 : 128;
    if (!version || extra !== undefined || bits === undefined || !/^\d+$/.test(bits) || Number(bits) > max) {
      errors.push(`${path}: ${JSON.stringify(cidr)} is not a CIDR`);
      return;
    }
    families.push(version);
  }
  if (family === 'dual') {
    if (cidrs.length > 2 || (cidrs.length === 2 && families[0] === families[1])) errors.push(`${path}: dual stack takes one IPv4 and one IPv6 CIDR`);
  } else if (cidrs.length > 1) {
    errors.push(`${path}: only one CIDR is allowed for single-stack networking`);
  } else if (families[0] !== (family === 'ipv6' ? 6 : 4)) {
    errors.push(`${path}: expected an ${family === 'ipv6' ? 'IPv6' : 'IPv4'} CIDR for ipFamily ${family}`);
  }
}

/** A kubeadm merge patch without a kind, or with a kind/apiVersion kind never generates, silently patches nothing. */
function checkKubeadmPatch(text: unknown, path: string, errors: string[]): void {
  if (typeof text !== 'string') return;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    errors.push(`${path}: not YAML: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  if (!isObject(doc) || typeof doc.kind !== 'string') {
    errors.push(`${path}: a kubeadm patch needs a "kind" (one of ${Object.keys(KUBEADM_TARGETS).join(', ')}), or it matches nothing`);
    return;
  }
  const versions = KUBEADM_TARGETS[doc.kind];
  if (!versions) errors.push(`${path}: kind generates no ${doc.kind}; the patch would match nothing`);
  else if (doc.apiVersion !== undefined && !versions.includes(String(doc.apiVersion))) {
    errors.push(`${path}: kind writes ${doc.kind} as ${versions.join(' or ')}, so apiVersion ${JSON.stringify(doc.apiVersion)} would match nothing`);
  }
}

/** Every problem kind would reject (and every patch it would silently skip), each naming its path. Empty when valid. */
export function validateKindConfig(doc: unknown): string[] {
  const errors: string[] = [];
  checkObject(doc, CLUSTER_SCHEMA, '', errors);
  if (!isObject(doc)) return errors;
  if (doc.apiVersion !== 'kind.x-k8s.io/v1alpha4') errors.push(`apiVersion: must be kind.x-k8s.io/v1alpha4, not ${describe(doc.apiVersion)}`);
  if (doc.kind !== 'Cluster') errors.push(`kind: must be Cluster, not ${describe(doc.kind)}`);
  if (doc.name !== undefined && !/^[a-z0-9.-]+$/.test(String(doc.name))) errors.push(`name: ${JSON.stringify(doc.name)} must match ^[a-z0-9.-]+$`);

  const net = isObject(doc.networking) ? doc.networking : {};
  const family = typeof net.ipFamily === 'string' ? net.ipFamily : 'ipv4';
  checkPort(net.apiServerPort, 'networking.apiServerPort', errors);
  checkSubnets(net.podSubnet, family, 'networking.podSubnet', errors);
  checkSubnets(net.serviceSubnet, family, 'networking.serviceSubnet', errors);

  const nodes = Array.isArray(doc.nodes) ? doc.nodes : [];
  nodes.forEach((n, i) => {
    if (!isObject(n)) return;
    for (const [j, m] of (Array.isArray(n.extraPortMappings) ? n.extraPortMappings : []).entries()) {
      if (!isObject(m)) continue;
      checkPort(m.hostPort, `nodes[${i}].extraPortMappings[${j}].hostPort`, errors);
      checkPort(m.containerPort, `nodes[${i}].extraPortMappings[${j}].containerPort`, errors);
    }
    (Array.isArray(n.kubeadmConfigPatches) ? n.kubeadmConfigPatches : []).forEach((p, j) => checkKubeadmPatch(p, `nodes[${i}].kubeadmConfigPatches[${j}]`, errors));
  });
  // a node without a role is a control plane (kind's default), and so is an empty node list
  const controlPlanes = nodes.filter((n) => !isObject(n) || n.role === undefined || n.role === 'control-plane').length;
  if (nodes.length > 0 && controlPlanes === 0) errors.push('nodes: must have at least one control-plane node');
  (Array.isArray(doc.kubeadmConfigPatches) ? doc.kubeadmConfigPatches : []).forEach((p, i) => checkKubeadmPatch(p, `kubeadmConfigPatches[${i}]`, errors));
  return errors;
}

/** Parses kind configuration text the way kind does (duplicate keys are errors) and validates it. */
export function validateKindConfigText(text: string): string[] {
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (e) {
    return [`not valid YAML: ${(e as Error).message.split('\n')[0]}`];
  }
  return validateKindConfig(doc);
}
