// The harness's certificates, made with the openssl CLI: one CA, the apiserver's serving certificate,
// and one client certificate per identity (the apiserver maps CN to the user and each O to a group).
// EC P-256 keys: generating them takes milliseconds, where RSA would slow every start.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  dir: string;
  openssl: string;
  caCert: string;
  caKey: string;
}

export interface KeyPair {
  cert: string;
  key: string;
}

export interface ServingNames {
  dnsNames: string[];
  ips: string[];
}

// Extensions live in a config file of our own, so the host's openssl.cnf cannot add or clash with any.
const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

export async function createCa(dir: string, openssl: string): Promise<Pki> {
  const pki: Pki = { dir, openssl, caCert: path.join(dir, 'ca.crt'), caKey: path.join(dir, 'ca.key') };
  await writeFile(configFile(pki), CONFIG);
  await openSsl(pki, [
    'req', '-x509', '-new', '-nodes', ...newKey(), '-keyout', pki.caKey, '-out', pki.caCert,
    '-days', '3650', '-subj', '/CN=netlab-harness-ca', '-config', configFile(pki), '-extensions', 'ca',
  ]);
  return pki;
}

export async function issueServingCert(pki: Pki, name: string, names: ServingNames): Promise<KeyPair> {
  const san = [...names.dnsNames.map((n) => `DNS:${n}`), ...names.ips.map((ip) => `IP:${ip}`)].join(',');
  const config = path.join(pki.dir, `${name}.cnf`);
  await writeFile(
    config,
    `${CONFIG}[serving]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n` +
      `extendedKeyUsage = serverAuth\nauthorityKeyIdentifier = keyid\nsubjectAltName = ${san}\n`,
  );
  return issue(pki, name, `/CN=${name}`, config, 'serving');
}

/** A client certificate for `user` in `groups`; names may not contain '/', which openssl's -subj reserves. */
export async function issueClientCert(pki: Pki, fileName: string, user: string, groups: string[]): Promise<KeyPair> {
  for (const part of [user, ...groups]) {
    if (part.includes('/') || part === '') throw new Error(`harness pki: user or group name "${part}" is empty or contains '/'`);
  }
  const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
  return issue(pki, fileName, subject, configFile(pki), 'client');
}

/** Key and CA-signed certificate in one openssl run (req -x509 -CA, OpenSSL 3). */
async function issue(pki: Pki, name: string, subject: string, config: string, section: string): Promise<KeyPair> {
  const pair = { cert: path.join(pki.dir, `${name}.crt`), key: path.join(pki.dir, `${name}.key`) };
  await openSsl(pki, [
    'req', '-new', '-nodes', ...newKey(), '-keyout', pair.key, '-out', pair.cert, '-subj', subject,
    '-CA', pki.caCert, '-CAkey', pki.caKey, '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', '3650',
    '-config', config, '-extensions', section,
  ]);
  return pair;
}

function newKey(): string[] {
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
}

function configFile(pki: Pki): string {
  return path.join(pki.dir, 'openssl.cnf');
}

async function openSsl(pki: Pki, args: string[]): Promise<void> {
  try {
    await run(pki.openssl, args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? '';
    throw new Error(`harness pki: \`openssl ${args.join(' ')}\` failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}
