// The anti-pattern: the same shape as offload.js, but the load is /block?ms=N, which sleeps on
// a worker thread, so GET / waits behind it. Give MS the time one /cpu request takes (loadtest/run
// measures it) to compare like with like. brigade must run with --enable-block-endpoint. Its
// thresholds are offload.js's: that this run crosses them is the point.
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e MS=20 loadtest/k6/antipattern.js
// Environment: MS (default 20), LOAD_VUS (4), PROBE_VUS (8), RAMP (10s), HOLD (30s), P99_MS (50).
import { pairedOptions } from './lib/paired.js';
import { integerEnv } from './lib/settings.js';

export { probe, load } from './lib/paired.js';

/** @type {import('k6/options').Options} */
export const options = pairedOptions(`/block?ms=${integerEnv('MS', 20)}`);
