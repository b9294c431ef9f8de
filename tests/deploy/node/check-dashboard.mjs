// Validates Grafana dashboards against @grafana/schema, Grafana's own published schema.
//
// The package ships the schema as TypeScript types (no JSON Schema), so each dashboard is turned
// into a TypeScript module that assigns the JSON, as object literals, to the schema's types, and
// the TypeScript compiler checks it: missing required fields, wrong types and misspelt keys
// (excess-property checks) are errors. Panel options and field config are checked against the
// panel plugin's own types (timeseries, stat); targets against a Prometheus query type.
//
// usage: node check-dashboard.mjs DASHBOARD.json DATASOURCES.yml
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import YAML from 'yaml';
import { typeCheck } from './typecheck.mjs';

// Panel plugins this check knows the option types of; any other panel type is refused, so a
// new panel type cannot slip through unchecked.
const panelTypes = {
  timeseries: 'TimeSeries',
  stat: 'Stat',
};

const preamble = `
import type { Dashboard, DataQuery } from '@grafana/schema';
import type * as TimeSeries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as Stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';

// JSON has no enums: the schema's string enums are accepted as their string values.
type Literal<T> = T extends string
  ? \`\${T}\`
  : T extends readonly (infer U)[]
    ? Literal<U>[]
    : T extends object
      ? { [K in keyof T]: Literal<T[K]> }
      : T;

// @grafana/schema types a panel's targets only as records; Grafana's Prometheus data source
// stores these fields (public/app/plugins/datasource/prometheus, dataquery.cue).
interface PrometheusQuery extends DataQuery {
  expr: string;
  legendFormat?: string;
  range?: boolean;
  instant?: boolean;
  exemplar?: boolean;
  interval?: string;
  format?: 'time_series' | 'table' | 'heatmap';
  editorMode?: 'code' | 'builder';
}
`;

function fail(message) {
  console.error(`check-dashboard: ${message}`);
  process.exit(1);
}

function panelsOf(dashboard) {
  const panels = [];
  for (const panel of dashboard.panels ?? []) {
    if (panel.type === 'row') panels.push(...(panel.panels ?? []));
    else panels.push(panel);
  }
  return panels;
}

function typescriptFor(dashboard, text) {
  const lines = [preamble, `export const dashboard: Literal<Dashboard> = ${text};`];
  for (const panel of panelsOf(dashboard)) {
    const plugin = panelTypes[panel.type];
    if (!plugin) fail(`panel "${panel.title}": no schema known for panel type "${panel.type}"`);
    const name = `panel${panel.id}`;
    lines.push(`// panel ${panel.id}: ${JSON.stringify(panel.title)}`);
    lines.push(`export const ${name}Options: Literal<${plugin}.Options> = ${JSON.stringify(panel.options ?? {})};`);
    const custom = panel.fieldConfig?.defaults?.custom;
    if (custom !== undefined && plugin === 'TimeSeries') {
      lines.push(`export const ${name}Custom: Literal<TimeSeries.FieldConfig> = ${JSON.stringify(custom)};`);
    }
    lines.push(`export const ${name}Targets: Literal<PrometheusQuery>[] = ${JSON.stringify(panel.targets ?? [])};`);
  }
  return lines.join('\n');
}

// What the types cannot say: every query goes to the provisioned data source, ids are unique.
function checkConsistency(dashboard, datasourceUid) {
  const ids = new Set();
  for (const panel of dashboard.panels ?? []) {
    for (const p of [panel, ...(panel.panels ?? [])]) {
      if (ids.has(p.id)) fail(`panel id ${p.id} is used twice`);
      ids.add(p.id);
    }
  }
  const refs = [];
  for (const panel of panelsOf(dashboard)) {
    refs.push([`panel "${panel.title}"`, panel.datasource]);
    if (!panel.targets?.length) fail(`panel "${panel.title}" has no query`);
    for (const t of panel.targets) refs.push([`panel "${panel.title}" query ${t.refId}`, t.datasource]);
  }
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type === 'query') refs.push([`variable "${v.name}"`, v.datasource]);
  }
  for (const [where, ref] of refs) {
    if (ref?.uid !== datasourceUid) {
      fail(`${where}: data source ${JSON.stringify(ref)} is not the provisioned uid "${datasourceUid}"`);
    }
  }
}

const [dashboardPath, datasourcesPath] = process.argv.slice(2);
if (!dashboardPath || !datasourcesPath) fail('usage: node check-dashboard.mjs DASHBOARD.json DATASOURCES.yml');

const text = readFileSync(dashboardPath, 'utf8');
const dashboard = JSON.parse(text);
const datasources = YAML.parse(readFileSync(datasourcesPath, 'utf8')).datasources ?? [];
const prometheus = datasources.find((d) => d.type === 'prometheus');
if (!prometheus?.uid) fail(`${datasourcesPath}: no prometheus data source with a uid`);
checkConsistency(dashboard, prometheus.uid);

const errors = typeCheck(typescriptFor(dashboard, text));
if (errors) {
  console.error(errors);
  fail(`${dashboardPath}: not valid against the schema (line numbers refer to the generated module above)`);
}
const { version } = createRequire(import.meta.url)('@grafana/schema/package.json');
console.log(`${dashboardPath}: valid against @grafana/schema ${version}`);
