// Checks a script's exported `options` the way k6 reads them at start-up: executors and the
// fields each one needs, durations, stages, exec functions, and threshold expressions against
// the metrics that exist (k6's built-in ones and those the script created). Returns a list of
// problems; empty when k6 would accept the options.

const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

// k6's built-in metrics and their types.
const BUILTIN_METRICS = new Map([
  ['checks', 'rate'], ['data_received', 'counter'], ['data_sent', 'counter'],
  ['dropped_iterations', 'counter'], ['group_duration', 'trend'], ['http_req_blocked', 'trend'],
  ['http_req_connecting', 'trend'], ['http_req_duration', 'trend'], ['http_req_failed', 'rate'],
  ['http_req_receiving', 'trend'], ['http_req_sending', 'trend'], ['http_req_tls_handshaking', 'trend'],
  ['http_req_waiting', 'trend'], ['http_reqs', 'counter'], ['iteration_duration', 'trend'],
  ['iterations', 'counter'], ['vus', 'gauge'], ['vus_max', 'gauge'],
]);

// Aggregations a threshold may use on each metric type.
const AGGREGATIONS = {
  counter: /^(count|rate)$/,
  gauge: /^value$/,
  rate: /^rate$/,
  trend: /^(avg|min|max|med|p\((\d+(\.\d+)?)\))$/,
};

const COMMON_SCENARIO_KEYS = ['executor', 'startTime', 'gracefulStop', 'exec', 'env', 'tags', 'options'];

// Per executor: the keys it requires and the keys it allows besides the common ones.
const EXECUTORS = {
  'shared-iterations': { required: [], optional: ['vus', 'iterations', 'maxDuration'] },
  'per-vu-iterations': { required: [], optional: ['vus', 'iterations', 'maxDuration'] },
  'constant-vus': { required: ['duration'], optional: ['vus'] },
  'ramping-vus': { required: ['stages'], optional: ['startVUs', 'gracefulRampDown'] },
  'constant-arrival-rate': {
    required: ['duration', 'rate', 'preAllocatedVUs'], optional: ['timeUnit', 'maxVUs'],
  },
  'ramping-arrival-rate': {
    required: ['stages', 'preAllocatedVUs'], optional: ['startRate', 'timeUnit', 'maxVUs'],
  },
  'externally-controlled': { required: ['duration'], optional: ['vus', 'maxVUs'] },
};

const DURATION_KEYS = ['startTime', 'gracefulStop', 'maxDuration', 'duration', 'gracefulRampDown', 'timeUnit'];
const COUNT_KEYS = ['vus', 'iterations', 'startVUs', 'rate', 'preAllocatedVUs', 'maxVUs', 'startRate'];

const isDuration = (value) => typeof value === 'string' && DURATION.test(value);
const isCount = (value) => Number.isInteger(value) && value >= 0;

function checkStages(stages, where, problems) {
  if (!Array.isArray(stages) || stages.length === 0) {
    problems.push(`${where}: stages must be a non-empty array`);
    return;
  }
  stages.forEach((stage, i) => {
    if (!isDuration(stage?.duration)) problems.push(`${where}.stages[${i}].duration: "${stage?.duration}" is not a duration`);
    if (!isCount(stage?.target)) problems.push(`${where}.stages[${i}].target: expected a count >= 0`);
    for (const key of Object.keys(stage ?? {})) {
      if (key !== 'duration' && key !== 'target') problems.push(`${where}.stages[${i}]: unknown key "${key}"`);
    }
  });
}

function checkScenario(name, scenario, exports, problems) {
  const where = `scenarios.${name}`;
  if (!/^[0-9A-Za-z_-]+$/.test(name)) problems.push(`${where}: scenario names are letters, digits, _ and -`);
  const executor = EXECUTORS[scenario?.executor];
  if (!executor) {
    problems.push(`${where}.executor: "${scenario?.executor}" is not a k6 executor (${Object.keys(EXECUTORS).join(', ')})`);
    return;
  }
  for (const key of executor.required) {
    if (scenario[key] === undefined) problems.push(`${where}: ${scenario.executor} needs "${key}"`);
  }
  const allowed = new Set([...COMMON_SCENARIO_KEYS, ...executor.required, ...executor.optional]);
  for (const key of Object.keys(scenario)) {
    if (!allowed.has(key)) problems.push(`${where}: "${key}" is not an option of ${scenario.executor}`);
  }
  for (const key of DURATION_KEYS) {
    if (scenario[key] !== undefined && !isDuration(scenario[key])) {
      problems.push(`${where}.${key}: "${scenario[key]}" is not a duration`);
    }
  }
  for (const key of COUNT_KEYS) {
    if (scenario[key] !== undefined && !isCount(scenario[key])) problems.push(`${where}.${key}: expected a count >= 0`);
  }
  if (scenario.stages !== undefined) checkStages(scenario.stages, where, problems);
  if (scenario.maxVUs !== undefined && scenario.preAllocatedVUs !== undefined && scenario.maxVUs < scenario.preAllocatedVUs) {
    problems.push(`${where}: maxVUs is below preAllocatedVUs`);
  }
  if (scenario.executor === 'shared-iterations' && (scenario.iterations ?? 1) < (scenario.vus ?? 1)) {
    problems.push(`${where}: shared-iterations needs iterations >= vus`);
  }
  const exec = scenario.exec ?? 'default';
  if (typeof exports[exec] !== 'function') problems.push(`${where}.exec: the script exports no function "${exec}"`);
  for (const field of ['env', 'tags']) {
    for (const [key, value] of Object.entries(scenario[field] ?? {})) {
      if (typeof value !== 'string') problems.push(`${where}.${field}.${key}: must be a string`);
    }
  }
}

// "http_req_duration{scenario:probe,endpoint:hello}" -> name and tag filters.
function parseMetricKey(key) {
  const match = /^([a-zA-Z_][a-zA-Z0-9_]*)(\{(.*)\})?$/.exec(key);
  if (!match) return null;
  const filters = match[3] === undefined ? [] : match[3].split(',');
  if (filters.some((filter) => !/^[^:{}]+:[^{}]+$/.test(filter.trim()))) return null;
  return { name: match[1], filters };
}

function checkThreshold(key, entries, customMetrics, problems) {
  const where = `thresholds["${key}"]`;
  const metric = parseMetricKey(key);
  if (!metric) {
    problems.push(`${where}: expected metric_name or metric_name{tag:value,...}`);
    return;
  }
  const type = customMetrics.get(metric.name) ?? BUILTIN_METRICS.get(metric.name);
  if (!type) {
    problems.push(`${where}: no metric "${metric.name}" (neither built in nor created by the script)`);
    return;
  }
  if (!Array.isArray(entries) || entries.length === 0) {
    problems.push(`${where}: expected a non-empty array of threshold expressions`);
    return;
  }
  for (const entry of entries) {
    const expression = typeof entry === 'string' ? entry : entry?.threshold;
    if (typeof entry === 'object' && entry !== null) {
      for (const field of Object.keys(entry)) {
        if (!['threshold', 'abortOnFail', 'delayAbortEval'].includes(field)) problems.push(`${where}: unknown field "${field}"`);
      }
      if (entry.delayAbortEval !== undefined && !isDuration(entry.delayAbortEval)) {
        problems.push(`${where}: delayAbortEval "${entry.delayAbortEval}" is not a duration`);
      }
    }
    const parsed = /^\s*([a-z]+(\([^)]*\))?)\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(\.\d+)?)\s*$/.exec(expression ?? '');
    if (!parsed) {
      problems.push(`${where}: "${expression}" is not "aggregation operator number"`);
      continue;
    }
    const aggregation = AGGREGATIONS[type].exec(parsed[1]);
    if (!aggregation) {
      problems.push(`${where}: "${parsed[1]}" does not apply to ${metric.name}, a ${type}`);
    } else if (aggregation[2] !== undefined && !(Number(aggregation[2]) >= 0 && Number(aggregation[2]) <= 100)) {
      problems.push(`${where}: percentile ${aggregation[2]} is outside 0..100`);
    }
  }
}

export function checkOptions(options, exports, customMetrics) {
  const problems = [];
  if (options === undefined) return problems;
  if (options === null || typeof options !== 'object') return ['options: expected an object'];

  if (options.scenarios !== undefined) {
    for (const key of ['stages', 'duration', 'iterations']) {
      if (options[key] !== undefined) problems.push(`options.${key} conflicts with options.scenarios: set it per scenario`);
    }
    const names = Object.keys(options.scenarios);
    if (names.length === 0) problems.push('options.scenarios: empty');
    for (const name of names) checkScenario(name, options.scenarios[name], exports, problems);
  } else {
    if (typeof exports.default !== 'function') problems.push('the script exports no default function to run');
    if (options.stages !== undefined) checkStages(options.stages, 'options', problems);
    if (options.duration !== undefined && !isDuration(options.duration)) problems.push(`options.duration: "${options.duration}" is not a duration`);
  }
  for (const [key, entries] of Object.entries(options.thresholds ?? {})) {
    checkThreshold(key, entries, customMetrics, problems);
  }
  for (const stat of options.summaryTrendStats ?? []) {
    if (!AGGREGATIONS.trend.test(stat) && stat !== 'count') problems.push(`summaryTrendStats: "${stat}" is not a trend statistic`);
  }
  return problems;
}

// The scenarios to run once each: [name, executor, exec function name, env].
export function scenariosToRun(options) {
  if (options?.scenarios === undefined) return [['default', 'per-vu-iterations', 'default', {}]];
  return Object.entries(options.scenarios).map(([name, scenario]) => [
    name, scenario.executor, scenario.exec ?? 'default', scenario.env ?? {},
  ]);
}
