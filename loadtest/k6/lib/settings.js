// What every scenario reads from the environment (`k6 run -e NAME=value`), with defaults sized
// for a 2-core machine. Read in the init context, once per VU.

/** The server under test, without a trailing slash. */
export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

/**
 * A positive integer from the environment, or `fallback`. A malformed value stops the test at
 * start-up instead of silently running with the default.
 * @param {string} name
 * @param {number} fallback
 * @returns {number}
 */
export function integerEnv(name, fallback) {
  const text = __ENV[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name}=${text}: expected a positive integer`);
  }
  return value;
}

/**
 * A k6 duration ("30s", "1m30s", "500ms") from the environment, or `fallback`.
 * @param {string} name
 * @param {string} fallback
 * @returns {string}
 */
export function durationEnv(name, fallback) {
  const text = __ENV[name];
  if (text === undefined || text === '') return fallback;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) {
    throw new Error(`${name}=${text}: expected a duration such as 30s, 1m30s or 500ms`);
  }
  return text;
}

/**
 * Ramp up to `vus` over RAMP (default 10s), hold for HOLD (default 30s), ramp down over RAMP:
 * latency is read on the plateau, and the ramps show where it starts to bend.
 * @param {number} vus
 * @returns {import('k6/options').Stage[]}
 */
export function rampingStages(vus) {
  const ramp = durationEnv('RAMP', '10s');
  return [
    { duration: ramp, target: vus },
    { duration: durationEnv('HOLD', '30s'), target: vus },
    { duration: ramp, target: 0 },
  ];
}

/** The p99 limit of GET / in milliseconds (P99_MS, default 50). */
export const P99_MS = integerEnv('P99_MS', 50);
