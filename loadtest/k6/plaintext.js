// GET / over kept-alive connections, ramping the virtual users up and down.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 loadtest/k6/plaintext.js
// Environment: VUS (default 32), RAMP (10s), HOLD (30s), P99_MS (50).
import http from 'k6/http';
import { checkHello } from './lib/checks.js';
import { BASE_URL, P99_MS, integerEnv, rampingStages } from './lib/settings.js';

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    plaintext: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: rampingStages(integerEnv('VUS', 32)),
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
  checkHello(http.get(`${BASE_URL}/`));
}
