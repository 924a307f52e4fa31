// The pinned Calico release and how lab up turns manifests/calico/ into a kustomization of the checked copy.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { CALICO, CalicoManifestError, localizeKustomization, sha256Hex, verifyManifest } from '../../src/lab/calico.ts';

const kustomizationPath = new URL('../../manifests/calico/kustomization.yaml', import.meta.url);
const kustomization = readFileSync(kustomizationPath, 'utf8');

describe('Calico release', () => {
  test('manifests/calico lists exactly the release src/lab/calico.ts checks, pinned to a tag', () => {
    const doc = parse(kustomization) as { resources: string[] };
    expect(doc.resources).toEqual([CALICO.manifestUrl]);
    expect(CALICO.manifestUrl).toBe(`https://raw.githubusercontent.com/projectcalico/calico/${CALICO.version}/manifests/calico.yaml`);
    expect(CALICO.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  test('the localized kustomization names the local copy instead of the URL and keeps the patches', () => {
    const { text, files } = localizeKustomization(kustomization, 'manifests/calico/kustomization.yaml', CALICO);
    const doc = parse(text) as { resources: string[]; patches: { path: string }[] };
    expect(doc.resources).toEqual(['calico.yaml']);
    expect(doc.patches).toEqual([{ path: 'calico-node-ippool.yaml' }]);
    expect(files).toEqual(['calico-node-ippool.yaml']);
  });

  test('a kustomization that names another release is refused with both sides named', () => {
    const other = kustomization.replace(CALICO.version, 'v3.31.0');
    expect(() => localizeKustomization(other, 'k.yaml', CALICO)).toThrow(
      new CalicoManifestError(`k.yaml does not list ${CALICO.manifestUrl} (the release in src/lab/calico.ts); update one of them so both name the same Calico release`),
    );
  });

  test('a patch outside the kustomization folder is refused', () => {
    const outside = kustomization.replace('path: calico-node-ippool.yaml', 'path: ../secret.yaml');
    expect(() => localizeKustomization(outside, 'k.yaml', CALICO)).toThrow(/k\.yaml: patches\[0\] must name a file in the same folder/);
  });

  test('only bytes with the recorded SHA-256 pass', () => {
    const bytes = new TextEncoder().encode('apiVersion: v1\n');
    expect(() => verifyManifest(bytes, { ...CALICO, sha256: sha256Hex(bytes) })).not.toThrow();
    expect(() => verifyManifest(bytes, CALICO)).toThrow(new RegExp(`has SHA-256 ${sha256Hex(bytes)}, not the recorded ${CALICO.sha256}`));
  });
});
