// What the script did against the stand-ins: the metrics it created, the requests and checks it
// made, and the execution context k6 would give it (init context until a scenario runs).
export const state = {
  /** @type {Map<string, string>} metric name -> type (counter, gauge, rate, trend) */
  metrics: new Map(),
  requests: [],
  checks: { passed: 0, failed: 0 },
  context: { phase: 'init', scenario: null, executor: null, vu: 0, iteration: 0 },
};

export function inInitContext() {
  return state.context.phase === 'init';
}

export class StandInError extends Error {}

export function fail(message) {
  throw new StandInError(message);
}
