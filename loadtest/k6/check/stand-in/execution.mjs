// Stand-in for `k6/execution`: the context of the one iteration the check runs.
import { fail, state } from './state.mjs';

const execution = {
  get scenario() {
    const { scenario, executor, iteration } = state.context;
    if (scenario === null) fail('k6/execution: scenario is only available while a scenario runs');
    return { name: scenario, executor, startTime: 0, progress: 0, iterationInInstance: iteration, iterationInTest: iteration };
  },
  get vu() {
    return { idInInstance: state.context.vu, idInTest: state.context.vu, iterationInInstance: state.context.iteration, iterationInScenario: state.context.iteration, tags: {}, metrics: { tags: {}, metadata: {} } };
  },
  get instance() {
    return { iterationsCompleted: 0, iterationsInterrupted: 0, vusActive: 1, vusInitialized: 1, currentTestRunDuration: 0 };
  },
  test: {
    abort(reason) {
      throw new Error(`test aborted: ${reason}`);
    },
    options: {},
  },
};

export default execution;
