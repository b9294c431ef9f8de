// Stand-in for `k6/metrics`: custom metrics, created in the init context as in k6, registered by
// name and type so that thresholds on them can be checked.
import { checkTags } from './k6.mjs';
import { fail, inInitContext, state } from './state.mjs';

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/;

class Metric {
  constructor(type, name, isTime) {
    if (!inInitContext()) fail(`new ${type} metric "${name}": metrics can only be created in the init context`);
    if (typeof name !== 'string' || !NAME.test(name)) fail(`metric name "${name}": expected ${NAME}`);
    if (isTime !== undefined && typeof isTime !== 'boolean') fail(`metric "${name}": isTime must be a boolean`);
    const known = state.metrics.get(name);
    if (known && known !== type) fail(`metric "${name}" is already a ${known}, not a ${type}`);
    state.metrics.set(name, type);
    this.name = name;
    this.type = type;
  }

  add(value, tags) {
    if (inInitContext()) fail(`metric "${this.name}": add() is not allowed in the init context`);
    const ok = typeof value === 'number' ? Number.isFinite(value) : this.type === 'rate' && typeof value === 'boolean';
    if (!ok) fail(`metric "${this.name}" (${this.type}): cannot add ${JSON.stringify(value)}`);
    if (tags !== undefined) checkTags(tags, `metric "${this.name}" tags`);
  }
}

export class Counter extends Metric {
  constructor(name, isTime) { super('counter', name, isTime); }
}
export class Gauge extends Metric {
  constructor(name, isTime) { super('gauge', name, isTime); }
}
export class Rate extends Metric {
  constructor(name, isTime) { super('rate', name, isTime); }
}
export class Trend extends Metric {
  constructor(name, isTime) { super('trend', name, isTime); }
}

export default { Counter, Gauge, Rate, Trend };
