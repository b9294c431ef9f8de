// Loads one k6 script under node with the k6 modules replaced by stand-ins, checks its options,
// and runs setup, each scenario's exec function once, teardown and handleSummary. Exit status 0
// when k6 would accept the script and one iteration of each scenario runs without throwing.
//   node check-one.mjs path/to/script.js
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

register('./hooks.mjs', import.meta.url);
const { state } = await import('./stand-in/state.mjs');
const { checkOptions, scenariosToRun } = await import('./options.mjs');

const script = process.argv[2];
if (!script) {
  console.error('usage: node check-one.mjs SCRIPT.js');
  process.exit(2);
}
const scriptPath = resolve(script);

// The globals k6 gives a script. __ENV holds the environment, as `k6 run` passes it by default.
globalThis.__ENV = { ...process.env };
globalThis.__VU = 0;
globalThis.__ITER = 0;
globalThis.open = (file, mode) => {
  if (state.context.phase !== 'init') throw new Error('open() is only allowed in the init context');
  const contents = readFileSync(resolve(dirname(scriptPath), file));
  return mode === 'b' ? contents.buffer : contents.toString('utf8');
};

function enter(phase, scenario = null, executor = null, env = {}) {
  Object.assign(state.context, { phase, scenario, executor, vu: phase === 'init' ? 0 : 1 });
  globalThis.__VU = state.context.vu;
  globalThis.__ENV = { ...process.env, ...env };
}

const exports = await import(pathToFileURL(scriptPath).href);

const problems = checkOptions(exports.options, exports, state.metrics);
if (problems.length > 0) {
  console.error(`FAIL ${script}: k6 would refuse its options:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}

const scenarios = scenariosToRun(exports.options);
enter('setup');
const data = typeof exports.setup === 'function' ? await exports.setup() : undefined;
for (const [name, executor, exec, env] of scenarios) {
  enter('vu', name, executor, env);
  await exports[exec](data);
}
enter('teardown');
if (typeof exports.teardown === 'function') await exports.teardown(data);
if (typeof exports.handleSummary === 'function') {
  const outputs = await exports.handleSummary({ metrics: {}, root_group: { name: '', checks: [], groups: [] }, options: {}, state: {} });
  for (const [target, text] of Object.entries(outputs ?? {})) {
    if (typeof text !== 'string') throw new Error(`handleSummary: output "${target}" is not a string`);
  }
}

const names = scenarios.map(([name]) => name).join(', ');
console.log(
  `ok ${script}: scenarios [${names}], ${state.requests.length} request(s), ` +
    `${state.checks.passed + state.checks.failed} check(s) evaluated, ` +
    `custom metrics [${[...state.metrics.keys()].join(', ')}]`,
);
