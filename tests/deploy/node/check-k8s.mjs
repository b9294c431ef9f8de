// Validates the Kubernetes manifests offline and checks that they agree with each other and with
// Brigade's shutdown timing.
//
// Each object is validated twice against the Kubernetes API schemas as kubernetes-models (and
// @kubernetes-models/prometheus-operator for the ServiceMonitor) publish them: at run time by the
// package's compiled JSON-Schema validators (types, required fields, formats), and by the
// TypeScript compiler against its interfaces, which also refuses unknown fields as
// `kubectl apply --validate=strict` does.
//
// usage: node check-k8s.mjs K8S_DIR [BRIGADE_BIN]
//   With BRIGADE_BIN, the ConfigMap's brigade.toml is also loaded by the real binary
//   (`brigade --config FILE --print-config`), which refuses unknown keys and bad values.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import YAML from 'yaml';
import { typeCheck } from './typecheck.mjs';

const problems = [];
const problem = (message) => problems.push(message);

function yamlFiles(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
}

// apiVersion and kind to the module that models them.
function modelModule({ apiVersion, kind }) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : [null, apiVersion];
  if (group === 'monitoring.coreos.com') {
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  }
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

async function loadObjects(dir) {
  const objects = [];
  for (const file of yamlFiles(dir)) {
    for (const doc of YAML.parseAllDocuments(readFileSync(file, 'utf8'))) {
      if (doc.errors.length) problem(`${file}: ${doc.errors.join('; ')}`);
      const object = doc.toJS();
      if (object) objects.push({ file: relative(dir, file), object });
    }
  }
  return objects;
}

async function validateSchemas(objects) {
  const typescript = [];
  for (const [i, { file, object }] of objects.entries()) {
    const where = `${file}: ${object.kind}/${object.metadata?.name}`;
    const module = modelModule(object);
    let Model;
    try {
      Model = (await import(module))[object.kind];
    } catch {
      problem(`${where}: no schema for ${object.apiVersion} ${object.kind}`);
      continue;
    }
    try {
      new Model(object).validate();
    } catch (error) {
      problem(`${where}: ${error.message}`);
    }
    typescript.push(`// ${where}`);
    typescript.push(`import type { I${object.kind} as T${i} } from '${module}';`);
    typescript.push(`export const object${i}: T${i} = ${JSON.stringify(object)};`);
  }
  const errors = typeCheck(typescript.join('\n'));
  if (errors) problem(`unknown or mistyped fields:\n${errors}`);
}

function find(objects, kind, predicate = () => true) {
  return objects.map((o) => o.object).filter((o) => o.kind === kind && predicate(o));
}

function one(objects, kind, predicate) {
  const found = find(objects, kind, predicate);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
}

// Brigade's duration syntax (config/README.md): a number and a unit, e.g. 500ms, 10s, 2m, 1h.
function seconds(duration, key) {
  const match = /^(\d+)(ms|s|m|h)$/.exec(String(duration));
  if (!match) throw new Error(`${key} = ${JSON.stringify(duration)} is not a duration`);
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2]];
  return Number(match[1]) * unit;
}

function matches(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

function checkDeployment(objects, brigadeBin) {
  const deployment = one(objects, 'Deployment');
  const pod = deployment.spec.template;
  const container = pod.spec.containers.find((c) => c.name === 'brigade');
  if (!container) return problem('Deployment: no container named brigade');

  // The ConfigMap mounted at the directory --config names.
  const configArg = container.args?.[container.args.indexOf('--config') + 1];
  const mount = container.volumeMounts?.find((m) => configArg?.startsWith(`${m.mountPath}/`));
  const volume = pod.spec.volumes?.find((v) => v.name === mount?.name);
  const configMap = find(objects, 'ConfigMap', (c) => c.metadata.name === volume?.configMap?.name)[0];
  const fileName = configArg?.slice((mount?.mountPath.length ?? 0) + 1);
  const toml = configMap?.data?.[fileName];
  if (!toml) return problem(`Deployment: --config ${configArg} is not a file of a mounted ConfigMap`);
  const settings = parseToml(toml);

  if (brigadeBin) {
    const dir = mkdtempSync(join(tmpdir(), 'brigade-k8s-'));
    try {
      writeFileSync(join(dir, fileName), toml);
      execFileSync(brigadeBin, ['--config', join(dir, fileName), '--print-config'], { stdio: 'pipe' });
    } catch (error) {
      problem(`ConfigMap ${configMap.metadata.name}: brigade refuses ${fileName}: ${error.stderr ?? error.message}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // Probes and the port brigade listens on.
  const port = Number(String(settings.listen ?? '').split(':').pop());
  const http = container.ports?.find((p) => p.name === 'http');
  if (http?.containerPort !== port) problem(`Deployment: containerPort ${http?.containerPort} is not the listen port ${port}`);
  if (container.readinessProbe?.httpGet?.path !== '/readyz') problem('Deployment: readiness probe must GET /readyz');
  if (container.livenessProbe?.httpGet?.path !== '/healthz') problem('Deployment: liveness probe must GET /healthz');

  // Security and resources.
  const security = { ...pod.spec.securityContext, ...container.securityContext };
  if (security.runAsNonRoot !== true) problem('Deployment: runAsNonRoot must be true');
  if (security.readOnlyRootFilesystem !== true) problem('Deployment: readOnlyRootFilesystem must be true');
  if (security.allowPrivilegeEscalation !== false) problem('Deployment: allowPrivilegeEscalation must be false');
  for (const kind of ['requests', 'limits']) {
    for (const resource of ['cpu', 'memory']) {
      if (!container.resources?.[kind]?.[resource]) problem(`Deployment: resources.${kind}.${resource} is not set`);
    }
  }

  // Shutdown timing: the grace period runs from the start of preStop, and must outlast the
  // pause plus brigade's drain_delay and grace_period, with a few seconds to exit.
  const preStop = container.lifecycle?.preStop;
  const pause = preStop?.sleep?.seconds ?? (preStop?.exec?.command?.[0] === 'sleep' ? Number(preStop.exec.command[1]) : NaN);
  if (!Number.isFinite(pause) || pause <= 0) problem('Deployment: preStop must pause (sleep) for some seconds');
  for (const key of ['drain_delay', 'grace_period']) {
    if (settings[key] === undefined) problem(`ConfigMap: brigade.toml must set ${key} explicitly`);
  }
  const drain = seconds(settings.drain_delay ?? '0s', 'drain_delay');
  const grace = seconds(settings.grace_period ?? '0s', 'grace_period');
  const termination = pod.spec.terminationGracePeriodSeconds;
  const margin = termination - (pause + drain + grace);
  const sum = `preStop ${pause} s + drain_delay ${drain} s + grace_period ${grace} s`;
  if (!(margin >= 2)) problem(`terminationGracePeriodSeconds ${termination} leaves under 2 s after ${sum}`);
  if (margin > 15) problem(`terminationGracePeriodSeconds ${termination} is over 15 s more than ${sum}: pods linger`);
  if (Number(settings.worker_threads) > 0 && container.resources?.limits?.cpu) {
    const cpu = String(container.resources.limits.cpu);
    const cores = cpu.endsWith('m') ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu);
    if (settings.worker_threads > Math.ceil(cores)) {
      problem(`worker_threads ${settings.worker_threads} is more than the CPU limit ${cpu}`);
    }
  }
  console.log(`timing: terminationGracePeriodSeconds ${termination} = ${sum} + ${margin} s margin`);
  return deployment;
}

function checkReferences(objects, deployment) {
  const podLabels = deployment.spec.template.metadata.labels;
  const podPorts = deployment.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
  if (!matches(deployment.spec.selector.matchLabels, podLabels)) problem('Deployment: selector does not match its pods');

  const service = one(objects, 'Service');
  if (!matches(service.spec.selector, podLabels)) problem('Service: selector does not match the pods');
  for (const p of service.spec.ports) {
    if (!podPorts.some((c) => c.name === p.targetPort || c.containerPort === p.targetPort)) {
      problem(`Service: targetPort ${p.targetPort} is no port of the pods`);
    }
  }
  const pdb = one(objects, 'PodDisruptionBudget');
  if (!matches(pdb.spec.selector.matchLabels, podLabels)) problem('PodDisruptionBudget: selector does not match the pods');
  if (!(pdb.spec.minAvailable < deployment.spec.replicas)) problem('PodDisruptionBudget: minAvailable leaves no pod to evict');

  const monitor = one(objects, 'ServiceMonitor');
  if (!matches(monitor.spec.selector.matchLabels, service.metadata.labels)) problem('ServiceMonitor: selector does not match the Service');
  for (const e of monitor.spec.endpoints) {
    if (!service.spec.ports.some((p) => p.name === e.port)) problem(`ServiceMonitor: port ${e.port} is not a Service port`);
    if (e.path !== '/metrics') problem('ServiceMonitor: path must be /metrics');
  }

  const adapter = find(objects, 'ConfigMap', (c) => c.metadata.name === 'adapter-config')[0];
  const adapterRules = adapter ? YAML.parse(adapter.data['config.yaml']).rules ?? [] : [];
  const served = new Set(adapterRules.map((r) => r.name?.as));
  for (const hpa of find(objects, 'HorizontalPodAutoscaler')) {
    const target = hpa.spec.scaleTargetRef;
    if (target.kind !== 'Deployment' || target.name !== deployment.metadata.name) {
      problem(`HorizontalPodAutoscaler: scales ${target.kind}/${target.name}, not the Deployment`);
    }
    for (const metric of hpa.spec.metrics) {
      if (metric.type === 'Resource' && !deployment.spec.template.spec.containers.every((c) => c.resources?.requests?.[metric.resource.name])) {
        problem(`HorizontalPodAutoscaler: ${metric.resource.name} utilization needs a ${metric.resource.name} request`);
      }
      if (metric.type === 'Pods' && !served.has(metric.pods.metric.name)) {
        problem(`HorizontalPodAutoscaler: no prometheus-adapter rule serves ${metric.pods.metric.name}`);
      }
    }
  }
  if (find(objects, 'HorizontalPodAutoscaler', (h) => h.spec.metrics.some((m) => m.type === 'Pods')).length === 0) {
    problem('no HorizontalPodAutoscaler on a custom metric');
  }
}

const [dir, brigadeBin] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node check-k8s.mjs K8S_DIR [BRIGADE_BIN]');
  process.exit(2);
}
const objects = await loadObjects(dir);
await validateSchemas(objects);
try {
  const deployment = checkDeployment(objects, brigadeBin);
  if (deployment) checkReferences(objects, deployment);
} catch (error) {
  problem(error.message);
}
if (problems.length) {
  for (const p of problems) console.error(`check-k8s: ${p}`);
  process.exit(1);
}
console.log(`${dir}: ${objects.length} objects valid and consistent`);
