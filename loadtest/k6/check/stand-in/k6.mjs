// Stand-in for the `k6` module: check, group, sleep, fail, randomSeed.
import { fail as standInFail, inInitContext, state } from './state.mjs';

export function check(value, sets, tags) {
  if (sets === null || typeof sets !== 'object') standInFail('check(value, sets): sets must be an object of predicates');
  if (tags !== undefined) checkTags(tags, 'check tags');
  let all = true;
  for (const [name, predicate] of Object.entries(sets)) {
    if (typeof predicate !== 'function' && typeof predicate !== 'boolean') {
      standInFail(`check "${name}": expected a function or a boolean`);
    }
    const ok = Boolean(typeof predicate === 'function' ? predicate(value) : predicate);
    state.checks[ok ? 'passed' : 'failed'] += 1;
    all &&= ok;
  }
  return all;
}

export function group(name, body) {
  if (typeof name !== 'string' || name === '') standInFail('group(name, fn): name must be a non-empty string');
  if (typeof body !== 'function') standInFail(`group "${name}": fn must be a function`);
  return body();
}

export function sleep(seconds) {
  if (inInitContext()) standInFail('sleep() is not allowed in the init context');
  if (typeof seconds !== 'number' || !(seconds >= 0)) standInFail(`sleep(${seconds}): expected seconds >= 0`);
}

export function fail(message) {
  throw new Error(`fail(): ${message}`);
}

export function randomSeed(seed) {
  if (!Number.isInteger(seed)) standInFail(`randomSeed(${seed}): expected an integer`);
}

export function checkTags(tags, what) {
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) standInFail(`${what}: expected an object`);
  for (const [key, value] of Object.entries(tags)) {
    if (typeof value !== 'string') standInFail(`${what}: tag "${key}" must be a string`);
  }
}

export default { check, group, sleep, fail, randomSeed };
