// What each node VM's kubelet runs with: its KubeletConfiguration and the files the harness writes into
// the guest before `netlab-node-up` starts containerd and the kubelet (harness/vm/node/).
import { stringify } from 'yaml';
import { CLUSTER_DOMAIN, DNS_SERVICE_IP } from '../control-plane/controlplane.ts';

export const GUEST_KUBELET_DIR = '/var/lib/kubelet';

/**
 * The kubelet's configuration. Authentication by client certificate (the apiserver's kubelet client) and
 * by token webhook, authorization by SubjectAccessReview, as kubeadm sets it up. Eviction is off: the
 * root file system is the initramfs, whose "disk" is memory the VM must not start evicting Pods over.
 */
export function kubeletConfiguration(): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: `${GUEST_KUBELET_DIR}/ca.crt` },
    },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    clusterDNS: [DNS_SERVICE_IP],
    clusterDomain: CLUSTER_DOMAIN,
    resolvConf: '/etc/resolv.conf',
    failSwapOn: false,
    evictionHard: { 'memory.available': '0%', 'nodefs.available': '0%', 'nodefs.inodesFree': '0%', 'imagefs.available': '0%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    localStorageCapacityIsolation: false,
    // the images are imported, never pulled
    serializeImagePulls: false,
    // A container's create or start can take minutes on a busy emulated node: with the default 2 min the kubelet
    // gave up on one nearly done ("context deadline exceeded") and began it again (2026-12-01).
    runtimeRequestTimeout: '10m',
  });
}

/**
 * The node's own /etc/resolv.conf: what kubelet gives Pods with dnsPolicy Default, and whose search list
 * and options it appends for ClusterFirst. QEMU's user network (restrict=on) answers no DNS: the address
 * is only written, never reached.
 */
export const NODE_RESOLV_CONF = 'nameserver 10.0.2.3\nsearch netlab.test\n';
