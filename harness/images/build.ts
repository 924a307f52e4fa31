// `node harness/images/build.ts [pause|coredns|probe|operator|all]` (npm run harness:images): builds the
// node cluster's images as OCI archives in $NETLAB_CACHE_DIR/images and prints each one's size and time.
import { buildImage, defaultContext, type ImageId, RECIPES } from './images.ts';

const ids = Object.keys(RECIPES) as ImageId[];
const wanted = process.argv.slice(2);
const unknown = wanted.filter((arg) => arg !== 'all' && !ids.includes(arg as ImageId));
if (unknown.length > 0) {
  process.stderr.write(`images: unknown image ${unknown.join(', ')}; choose from ${ids.join(', ')} or all\n`);
  process.exit(2);
}
const selected = wanted.length === 0 || wanted.includes('all') ? ids : (wanted as ImageId[]);
const context = defaultContext();
for (const id of selected) {
  try {
    const image = await buildImage(id, context);
    const size = `${(image.bytes / 2 ** 20).toFixed(1)} MiB`;
    const what = image.rebuilt ? `built in ${image.seconds.toFixed(1)} s` : `up to date (checked in ${image.seconds.toFixed(1)} s)`;
    process.stdout.write(`${id.padEnd(9)} ${image.containerdName}  ${size}  ${what}  ${image.archive}\n`);
  } catch (error) {
    process.stderr.write(`images: ${id}: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
