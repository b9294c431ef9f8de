// The offload and anti-pattern scenarios share one shape: a `probe` scenario measures GET /
// while a `load` scenario keeps the server busy with LOAD_PATH (/cpu or /block). The thresholds
// are on the probe alone: the question is what the load does to everyone else.
import http from 'k6/http';
import { Rate } from 'k6/metrics';
import { checkHello } from './checks.js';
import { BASE_URL, P99_MS, durationEnv, integerEnv } from './settings.js';

// Share of load requests refused with 503 because the blocking queue was full.
const refused = new Rate('load_refused');

/**
 * @param {string} loadPath the path the load scenario requests, e.g. /cpu?work=10000
 * @returns {import('k6/options').Options}
 */
export function pairedOptions(loadPath) {
  const ramp = durationEnv('RAMP', '10s');
  const hold = durationEnv('HOLD', '30s');
  const probeVUs = integerEnv('PROBE_VUS', 8);
  return {
    scenarios: {
      // The load starts first and runs through the probe's whole ramp.
      load: {
        executor: 'constant-vus',
        exec: 'load',
        vus: integerEnv('LOAD_VUS', 4),
        duration: `${2 * seconds(ramp) + seconds(hold) + 5}s`,
        env: { LOAD_PATH: loadPath },
        tags: { role: 'load' },
      },
      probe: {
        executor: 'ramping-vus',
        exec: 'probe',
        startTime: '5s',
        startVUs: 0,
        stages: [
          { duration: ramp, target: probeVUs },
          { duration: hold, target: probeVUs },
          { duration: ramp, target: 0 },
        ],
        gracefulRampDown: '5s',
        tags: { role: 'probe' },
      },
    },
    thresholds: {
      'http_req_duration{scenario:probe}': [`p(99)<${P99_MS}`],
      'http_req_failed{scenario:probe}': ['rate<0.01'],
      load_refused: ['rate<0.05'],
    },
  };
}

/**
 * Seconds in a duration written as by durationEnv.
 * @param {string} text
 * @returns {number}
 */
function seconds(text) {
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const [, value, suffix] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(value) * unit[/** @type {'ms'|'s'|'m'|'h'} */ (suffix)];
  }
  return Math.ceil(total);
}

/** GET /, the request whose latency the scenario is about. */
export function probe() {
  checkHello(http.get(`${BASE_URL}/`));
}

/** One request of the load; LOAD_PATH comes from the load scenario's env. */
export function load() {
  const response = http.get(`${BASE_URL}${__ENV.LOAD_PATH}`);
  refused.add(response.status === 503);
}
