// Self-contained kubeconfig files (certificates embedded), so a copy works anywhere: in CoreDNS,
// kube-controller-manager, a VM's initramfs, or a user's shell.
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export type Credential = { certFile: string; keyFile: string } | { token: string };

export interface KubeconfigSpec {
  server: string;
  caCertFile: string;
  userName: string;
  credential: Credential;
}

export async function writeKubeconfig(file: string, spec: KubeconfigSpec): Promise<string> {
  const base64 = async (f: string) => (await readFile(f)).toString('base64');
  const user =
    'token' in spec.credential
      ? { token: spec.credential.token }
      : {
          'client-certificate-data': await base64(spec.credential.certFile),
          'client-key-data': await base64(spec.credential.keyFile),
        };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'netlab-harness', cluster: { server: spec.server, 'certificate-authority-data': await base64(spec.caCertFile) } }],
    users: [{ name: spec.userName, user }],
    contexts: [{ name: 'netlab-harness', context: { cluster: 'netlab-harness', user: spec.userName } }],
    'current-context': 'netlab-harness',
  };
  await writeFile(file, stringify(config), { mode: 0o600 });
  return file;
}
