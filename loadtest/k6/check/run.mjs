// Checks each k6 script given, each in a fresh node process (as each k6 VU starts from a fresh
// init context, and so that one script's module state cannot hide another's errors).
//   node check/run.mjs plaintext.js mixed.js ...
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const checkOne = fileURLToPath(new URL('./check-one.mjs', import.meta.url));
const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  console.error('usage: node check/run.mjs SCRIPT.js...');
  process.exit(2);
}
let failed = 0;
for (const script of scripts) {
  const result = spawnSync(process.execPath, [checkOne, script], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
console.log(`${scripts.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
