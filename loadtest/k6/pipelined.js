// GET / in batches of DEPTH requests per iteration, the k6 counterpart of wrk's pipelined.lua.
// k6's HTTP client (Go's net/http) does not pipeline HTTP/1.1: a batch goes out in parallel
// over up to DEPTH connections per host instead, so this measures bursts, not pipelining. Use
// loadtest/wrk/pipelined.lua for true pipelining.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e DEPTH=16 loadtest/k6/pipelined.js
// Environment: DEPTH (default 16), VUS (8), RAMP (10s), HOLD (30s), P99_MS (50).
import http from 'k6/http';
import { checkHello } from './lib/checks.js';
import { BASE_URL, P99_MS, integerEnv, rampingStages } from './lib/settings.js';

const depth = integerEnv('DEPTH', 16);
/** @type {import('k6/http').BatchRequest[]} */
const batch = Array.from({ length: depth }, () => ['GET', `${BASE_URL}/`]);

/** @type {import('k6/options').Options} */
export const options = {
  batchPerHost: depth,
  scenarios: {
    pipelined: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: rampingStages(integerEnv('VUS', 8)),
      gracefulRampDown: '5s',
    },
  },
  thresholds: {
    http_req_duration: [`p(99)<${P99_MS}`],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  },
};

export default function () {
  for (const response of http.batch(batch)) checkHello(response);
}
