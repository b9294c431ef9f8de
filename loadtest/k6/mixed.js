// Mostly GET /, some POST /hash with bodies of varied sizes: the largest are above brigade's
// hash_offload_threshold (64 KiB by default) and are hashed on the blocking pool.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 loadtest/k6/mixed.js
// Environment: HASH_PERCENT (default 10), SIZES (bytes, comma-separated, default
// 1024,16384,131072), VUS (32), RAMP (10s), HOLD (30s), P99_MS (50, GET /), HASH_P99_MS (250).
import { check } from 'k6';
import http from 'k6/http';
import { checkHello } from './lib/checks.js';
import { BASE_URL, P99_MS, integerEnv, rampingStages } from './lib/settings.js';

const hashPercent = Number(__ENV.HASH_PERCENT || '10');
if (!(hashPercent >= 0 && hashPercent <= 100)) {
  throw new Error(`HASH_PERCENT=${__ENV.HASH_PERCENT}: expected 0..100`);
}
const sizes = (__ENV.SIZES || '1024,16384,131072').split(',').map((word) => {
  const size = Number(word);
  if (!Number.isInteger(size) || size < 0) throw new Error(`SIZES=${__ENV.SIZES}: expected byte counts`);
  return size;
});
// Built once per VU in the init context, not per request.
const bodies = sizes.map((size) => 'brigade!'.repeat(Math.ceil(size / 8)).slice(0, size));

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    mixed: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: rampingStages(integerEnv('VUS', 32)),
      gracefulRampDown: '5s',
    },
  },
  thresholds: {
    'http_req_duration{endpoint:hello}': [`p(99)<${P99_MS}`],
    'http_req_duration{endpoint:hash}': [`p(99)<${integerEnv('HASH_P99_MS', 250)}`],
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
  },
};

export default function () {
  if (Math.random() * 100 >= hashPercent) {
    checkHello(http.get(`${BASE_URL}/`, { tags: { endpoint: 'hello' } }));
    return;
  }
  const body = bodies[Math.floor(Math.random() * bodies.length)];
  const response = http.post(`${BASE_URL}/hash`, body, {
    headers: { 'Content-Type': 'application/octet-stream' },
    tags: { endpoint: 'hash' },
  });
  check(response, {
    'POST /hash is 200': (r) => r.status === 200,
    'POST /hash answers a SHA-256 digest': (r) =>
      typeof r.body === 'string' && /"[0-9a-f]{64}"/.test(r.body),
  });
}
