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
import { dirname, join, relative, resolve } from 'node:path';
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

  if (brigadeBin) checkEffectiveSettings(pod, container, configMap, fileName, brigadeBin);

  // The ports brigade listens on; the probes on the admin port (plain HTTP, outside
  // max_connections).
  const port = Number(String(settings.listen ?? '').split(':').pop());
  const http = container.ports?.find((p) => p.name === 'http');
  if (http?.containerPort !== port) problem(`Deployment: containerPort ${http?.containerPort} is not the listen port ${port}`);
  const adminPort = Number(String(settings.admin_listen ?? '').split(':').pop());
  const admin = container.ports?.find((p) => p.name === 'admin');
  if (!settings.admin_listen) problem('ConfigMap: brigade.toml must set admin_listen');
  if (admin?.containerPort !== adminPort) problem(`Deployment: containerPort "admin" ${admin?.containerPort} is not the admin_listen port ${adminPort}`);
  if (container.readinessProbe?.httpGet?.path !== '/readyz') problem('Deployment: readiness probe must GET /readyz');
  if (container.livenessProbe?.httpGet?.path !== '/healthz') problem('Deployment: liveness probe must GET /healthz');
  for (const probe of ['readinessProbe', 'livenessProbe']) {
    if (container[probe]?.httpGet?.port !== 'admin') problem(`Deployment: ${probe} must use the admin port`);
  }

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

// The final stage of the Dockerfile: its ENV variables and the files its COPY instructions put
// in the image (destination -> source in the repository).
function imageOf(dockerfile) {
  const lines = readFileSync(dockerfile, 'utf8').replace(/\\\n/g, ' ').split('\n');
  const last = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  const env = {};
  const files = [];
  for (const line of lines.slice(last + 1)) {
    const [instruction, ...words] = line.trim().split(/\s+/);
    if (/^ENV$/i.test(instruction)) {
      if (words.length === 2 && !words[0].includes('=')) env[words[0]] = words[1];
      for (const word of words.filter((w) => w.includes('='))) {
        const at = word.indexOf('=');
        env[word.slice(0, at)] = word.slice(at + 1).replace(/^"(.*)"$/, '$1');
      }
    }
    if (/^COPY$/i.test(instruction) && !words.some((w) => w.startsWith('--from'))) {
      const [source, destination] = words.filter((w) => !w.startsWith('--'));
      files.push({ source: resolve(dirname(dockerfile), source), destination });
    }
  }
  return { env, files };
}

// The settings a pod ends up with: the image's ENV, the files the pod sees (a mounted ConfigMap
// over the image's own), and the container's args, through `brigade --print-config`. For every
// key the ConfigMap's file sets, they must be what that file alone gives: nothing in the image
// (an ENV line beats any file) may override it.
function checkEffectiveSettings(pod, container, configMap, fileName, brigadeBin) {
  const dockerfile = resolve(k8sDir, '../../Dockerfile');
  const image = imageOf(dockerfile);
  const dir = mkdtempSync(join(tmpdir(), 'brigade-pod-'));
  // A path inside the container, as a file on this machine (or the path itself if none).
  const podFile = (path) => {
    const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
    if (mount) {
      const volume = pod.spec.volumes?.find((v) => v.name === mount.name);
      const map = volume?.configMap && find(loaded, 'ConfigMap', (c) => c.metadata.name === volume.configMap.name)[0];
      const text = map?.data?.[path.slice(mount.mountPath.length + 1)];
      if (text === undefined) return path;
      const file = join(dir, `file-${Math.random().toString(36).slice(2)}`);
      writeFileSync(file, text);
      return file;
    }
    const copied = image.files.find((f) => f.destination === path);
    return copied ? copied.source : path;
  };
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BRIGADE_')));
  const printConfig = (args, env) =>
    parseToml(execFileSync(brigadeBin, [...args, '--print-config'], { env: { ...clean, ...env }, stdio: 'pipe' }).toString());
  try {
    const env = Object.fromEntries(Object.entries(image.env).map(([k, v]) => [k, k === 'BRIGADE_CONFIG' ? podFile(v) : v]));
    const args = (container.args ?? []).map((a) => (a.startsWith('/') ? podFile(a) : a));
    const effective = printConfig(args, env);
    const intentFile = join(dir, fileName);
    writeFileSync(intentFile, configMap.data[fileName]);
    const intended = printConfig(['--config', intentFile], {});
    const keys = Object.keys(parseToml(configMap.data[fileName]));
    const overridden = keys.filter((key) => JSON.stringify(effective[key]) !== JSON.stringify(intended[key]));
    for (const key of overridden) {
      problem(`pod settings: ${key} is ${JSON.stringify(effective[key])}, but the ConfigMap sets ${JSON.stringify(intended[key])} (the image's ENV or args override it)`);
    }
    if (!overridden.length) console.log(`pod settings: the ${keys.length} keys the ConfigMap sets hold in the pod`);
  } catch (error) {
    problem(`pod settings: brigade --print-config failed: ${error.stderr ?? error.message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkReferences(objects, deployment) {
  const podLabels = deployment.spec.template.metadata.labels;
  const podPorts = deployment.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
  if (!matches(deployment.spec.selector.matchLabels, podLabels)) problem('Deployment: selector does not match its pods');

  for (const service of find(objects, 'Service')) {
    if (!matches(service.spec.selector, podLabels)) problem(`Service ${service.metadata.name}: selector does not match the pods`);
    for (const p of service.spec.ports) {
      if (!podPorts.some((c) => c.name === p.targetPort || c.containerPort === p.targetPort)) {
        problem(`Service ${service.metadata.name}: targetPort ${p.targetPort} is no port of the pods`);
      }
    }
  }
  // The public Service carries the application port only: /metrics and /debug/* stay inside.
  const publicService = one(objects, 'Service', (s) => s.metadata.name === deployment.metadata.name);
  if (publicService.spec.ports.some((p) => p.targetPort === 'admin')) problem('Service: the public Service exposes the admin port');
  const pdb = one(objects, 'PodDisruptionBudget');
  if (!matches(pdb.spec.selector.matchLabels, podLabels)) problem('PodDisruptionBudget: selector does not match the pods');
  if (!(pdb.spec.minAvailable < deployment.spec.replicas)) problem('PodDisruptionBudget: minAvailable leaves no pod to evict');

  // The ServiceMonitor scrapes the admin port, through the Service(s) it selects.
  const monitor = one(objects, 'ServiceMonitor');
  const monitored = find(objects, 'Service', (s) => matches(monitor.spec.selector.matchLabels, s.metadata.labels));
  if (monitored.length === 0) problem('ServiceMonitor: selector matches no Service');
  for (const e of monitor.spec.endpoints) {
    for (const service of monitored) {
      const port = service.spec.ports.find((p) => p.name === e.port);
      if (!port) problem(`ServiceMonitor: port ${e.port} is not a port of Service ${service.metadata.name}`);
      else if (port.targetPort !== 'admin') problem(`ServiceMonitor: port ${e.port} of Service ${service.metadata.name} is not the pods' admin port`);
    }
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
const k8sDir = resolve(dir);
const objects = await loadObjects(dir);
const loaded = objects;
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
