// GET / latency while /cpu keeps brigade's blocking pool busy: the CPU-bound hashing runs on
// blocking threads, so the workers stay free for GET /. Compare with antipattern.js.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 loadtest/k6/offload.js
// Environment: WORK (rounds of SHA-256 per /cpu request, default 10000), LOAD_VUS (4),
// PROBE_VUS (8), RAMP (10s), HOLD (30s), P99_MS (50).
import { pairedOptions } from './lib/paired.js';
import { integerEnv } from './lib/settings.js';

export { probe, load } from './lib/paired.js';

/** @type {import('k6/options').Options} */
export const options = pairedOptions(`/cpu?work=${integerEnv('WORK', 10000)}`);
