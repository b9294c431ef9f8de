// Every PromQL expression of the dashboard, the recording and alerting rules and the
// prometheus-adapter rule must return data from a real Prometheus scraping a real Brigade.
//
// Starts the brigade binary on a free loopback port and /usr/bin/prometheus with the scrape
// configuration of deploy/prometheus/prometheus.yml (target and intervals pointed at the test:
// scrapes and rule evaluations every second) and its rule files, drives traffic to every kind
// of endpoint (including work offloaded to the blocking pool), and queries each expression
// through Prometheus's HTTP API (/api/v1/query) until all return at least one finite sample, or
// the time limit passes and the test fails naming those that did not.
//
// How expressions are taken:
// - dashboard: every panel target; Grafana's variables are substituted ($job with the scrape
//   job, $instance with ".*" as its "All" value, $__rate_interval with 15s); a variable query
//   label_values(SELECTOR, LABEL) is evaluated as count by (LABEL) (SELECTOR).
// - recording rules: each expression, and the recorded series by name (so the rule evaluated).
// - alerting rules: each is written `SIGNAL > THRESHOLD`; the SIGNAL is evaluated without the
//   threshold (with it, a healthy server rightly returns nothing). An alert not of that form
//   fails the test.
// - prometheus-adapter: the metricsQuery with <<.Series>>, <<.LabelMatchers>> and <<.GroupBy>>
//   filled in as the adapter would. Its seriesQuery is not evaluated: it selects the namespace
//   and pod labels that only the Prometheus Operator adds in a cluster.
//
// usage: node promql-test.mjs BRIGADE_BIN [PROMETHEUS_BIN]   (or BRIGADE_BIN in the environment)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const deployDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../deploy');
const brigadeBin = process.argv[2] ?? process.env.BRIGADE_BIN;
const prometheusBin = process.argv[3] ?? '/usr/bin/prometheus';
const deadlineSeconds = Number(process.env.PROMQL_TEST_DEADLINE ?? 120);
const rateInterval = '15s';

const children = [];
const tempDir = mkdtempSync(join(tmpdir(), 'brigade-promql-'));

function cleanUp() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(tempDir, { recursive: true, force: true });
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

function fail(message) {
  console.error(`promql-test: ${message}`);
  process.exit(1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

// Runs a child whose output is kept for the failure message; fails the test if it exits early.
function start(name, bin, args) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  const keep = (chunk) => {
    child.output += chunk;
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', (code, signal) => {
    if (!stopping) fail(`${name} exited early (${code ?? signal}):\n${child.output.slice(-4000)}`);
  });
  children.push(child);
  return child;
}
let stopping = false;

// With an admin listener, as deployed: Prometheus scrapes /metrics there, traffic goes to the
// main port (which has no /metrics then).
async function startBrigade() {
  const child = start('brigade', brigadeBin, [
    '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--log-format', 'json',
    '--worker-threads', '2',
  ]);
  for (let i = 0; i < 100; i++) {
    const line = child.output.split('\n').find((l) => l.includes('"brigade started"'));
    if (line) return { main: JSON.parse(line).address, admin: JSON.parse(line).admin_address };
    await sleep(100);
  }
  fail(`brigade did not start:\n${child.output}`);
}

// deploy/prometheus/prometheus.yml with the brigade job pointed at this test's server, every
// second, and the rule files given by absolute path.
function prometheusConfig(target) {
  const configDir = join(deployDir, 'prometheus');
  const config = YAML.parse(readFileSync(join(configDir, 'prometheus.yml'), 'utf8'));
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s' };
  config.rule_files = config.rule_files.map((pattern) => join(configDir, pattern));
  const job = config.scrape_configs.find((j) => j.job_name === 'brigade');
  if (!job) fail('prometheus.yml has no job "brigade"');
  job.scrape_interval = '1s';
  job.scrape_timeout = '1s';
  job.static_configs = [{ targets: [target] }];
  const file = join(tempDir, 'prometheus.yml');
  writeFileSync(file, YAML.stringify(config));
  return { file, job: job.job_name, ruleFiles: ruleFiles(configDir, config.rule_files) };
}

function ruleFiles(configDir, patterns) {
  const files = [];
  for (const pattern of patterns) {
    const dir = dirname(pattern);
    const re = new RegExp(`^${pattern.slice(dir.length + 1).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
    files.push(...readdirSync(dir).filter((f) => re.test(f)).map((f) => join(dir, f)));
  }
  if (files.length === 0) fail(`no rule files match ${patterns.join(', ')} in ${configDir}`);
  return files;
}

async function startPrometheus(configFile) {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  start('prometheus', prometheusBin, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(tempDir, 'tsdb')}`,
    `--web.listen-address=${address}`,
    '--log.level=warn',
  ]);
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://${address}/-/ready`)).ok) return `http://${address}`;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  fail('prometheus did not become ready');
}

// The expressions to check, each with where it came from.
function expressions(job, ruleFilePaths) {
  const list = [];
  const dashboardDir = join(deployDir, 'grafana', 'dashboards');
  const substitute = (expr) =>
    expr
      .replace(/\$\{?__rate_interval\}?/g, rateInterval)
      .replace(/\$\{?job\}?/g, job)
      .replace(/\$\{?instance\}?/g, '.*');
  for (const file of readdirSync(dashboardDir).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(readFileSync(join(dashboardDir, file), 'utf8'));
    for (const variable of dashboard.templating?.list ?? []) {
      const query = variable.query?.query ?? variable.query;
      const match = /^label_values\((.+),\s*(\w+)\)$/.exec(query ?? '');
      if (variable.type === 'query' && !match) fail(`${file}: variable ${variable.name}: cannot check query ${query}`);
      if (match) list.push({ where: `${file} variable ${variable.name}`, expr: `count by (${match[2]}) (${substitute(match[1])})` });
    }
    const panels = (dashboard.panels ?? []).flatMap((p) => (p.type === 'row' ? p.panels ?? [] : [p]));
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        list.push({ where: `${file} panel "${panel.title}" ${target.refId}`, expr: substitute(target.expr) });
      }
    }
  }
  for (const path of ruleFilePaths) {
    const file = path.slice(deployDir.length + 1);
    for (const group of YAML.parse(readFileSync(path, 'utf8')).groups) {
      for (const rule of group.rules) {
        if (rule.record) {
          list.push({ where: `${file} ${rule.record}`, expr: rule.expr });
          list.push({ where: `${file} ${rule.record} (recorded)`, expr: rule.record });
        } else {
          const signal = /^([\s\S]+?)\s*(?:>|<|>=|<=|==|!=)\s*[\d.]+\s*$/.exec(rule.expr);
          if (!signal) fail(`${file} alert ${rule.alert}: not of the form SIGNAL > THRESHOLD: ${rule.expr}`);
          list.push({ where: `${file} alert ${rule.alert} (without its threshold)`, expr: signal[1] });
        }
      }
    }
  }
  const adapterFile = join(deployDir, 'k8s', 'custom-metrics', 'prometheus-adapter-config.yaml');
  const adapter = YAML.parse(YAML.parse(readFileSync(adapterFile, 'utf8')).data['config.yaml']);
  for (const rule of adapter.rules) {
    const series = /^\s*(\w+)/.exec(rule.seriesQuery)[1];
    const expr = rule.metricsQuery
      .replace(/<<\.Series>>/g, series)
      .replace(/<<\.LabelMatchers>>/g, `job="${job}"`)
      .replace(/<<\.GroupBy>>/g, 'instance');
    list.push({ where: `prometheus-adapter rule ${rule.name.as}`, expr });
  }
  // Not a query of deploy/, but the proof that the traffic reached the blocking pool.
  list.push({
    where: 'this test: the blocking pool ran offloaded work',
    expr: `max_over_time(brigade_runtime_blocking_threads{job="${job}"}[10m]) > 0`,
  });
  return list;
}

// Answers: vector or matrix with at least one finite sample, or a finite scalar.
async function hasData(prometheus, expr) {
  const response = await fetch(`${prometheus}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = await response.json();
  if (body.status !== 'success') return { ok: false, why: `${body.errorType}: ${body.error}` };
  const { resultType, result } = body.data;
  const values = resultType === 'scalar' ? [result[1]] : result.map((s) => s.value[1]);
  const finite = values.filter((v) => Number.isFinite(Number(v)));
  if (finite.length) return { ok: true };
  return { ok: false, why: values.length ? `only NaN/Inf (${values.length} series)` : 'no series' };
}

// Traffic to every kind of endpoint, checking each answer's status. Some of it runs on the
// blocking pool: /hash with a body over hash_offload_threshold (64 KiB by default) and /cpu.
const bigBody = Buffer.alloc(1 << 20, 'brigade');
const requests = [
  ['GET', '/', 200],
  ['GET', '/json', 200],
  ['POST', '/echo', 200, 'hello'],
  ['GET', '/sleep?ms=20', 200],
  ['GET', '/no/such/route', 404],
  ['POST', '/hash', 200, 'small body, hashed inline'],
  ['POST', '/hash', 200, bigBody],
  ['GET', '/cpu?work=1000', 200],
  ['GET', '/fanout?n=8&ms=20', 200],
  ['GET', '/healthz', 200],
  ['GET', '/readyz', 200],
];

async function driveTraffic(base, until) {
  const wrong = new Map();
  const loop = async (offset) => {
    for (let i = offset; !until(); i++) {
      const [method, path, expected, body] = requests[i % requests.length];
      try {
        const response = await fetch(`${base}${path}`, { method, body });
        await response.arrayBuffer();
        if (response.status !== expected) wrong.set(`${method} ${path}`, `answered ${response.status}`);
      } catch (error) {
        wrong.set(`${method} ${path}`, `failed: ${error.cause?.message ?? error.message}`);
      }
      await sleep(10);
    }
  };
  await Promise.all([0, 3, 6].map(loop));
  return wrong;
}

if (!brigadeBin) fail('usage: node promql-test.mjs BRIGADE_BIN [PROMETHEUS_BIN]');
const brigade = await startBrigade();
const config = prometheusConfig(brigade.admin);
const prometheus = await startPrometheus(config.file);
const queries = expressions(config.job, config.ruleFiles);
console.log(`brigade on ${brigade.main} (admin ${brigade.admin}), prometheus on ${prometheus}; ${queries.length} expressions to check`);

let done = false;
const traffic = driveTraffic(`http://${brigade.main}`, () => done);
const startedAt = Date.now();
let missing = queries;
while (missing.length && Date.now() - startedAt < deadlineSeconds * 1000) {
  await sleep(2000);
  const results = await Promise.all(missing.map(async (q) => ({ ...q, ...(await hasData(prometheus, q.expr)) })));
  missing = results.filter((r) => !r.ok);
}
done = true;
const wrong = await traffic;
stopping = true;

for (const [request, what] of wrong) console.error(`promql-test: ${request} ${what}`);
for (const q of missing) console.error(`promql-test: no data after ${deadlineSeconds} s: ${q.where}: ${q.why}\n    ${q.expr}`);
if (missing.length || wrong.size) process.exit(1);
console.log(`all ${queries.length} expressions returned data after ${Math.round((Date.now() - startedAt) / 1000)} s of traffic`);
// The children's pipes would keep node running: exit, and the exit handler stops them.
process.exit(0);
