// Stand-in for `k6/data`: SharedArray runs its factory once, in the init context, as k6 does.
import { fail, inInitContext } from './state.mjs';

export class SharedArray {
  constructor(name, factory) {
    if (!inInitContext()) fail(`SharedArray "${name}": only in the init context`);
    if (typeof name !== 'string' || name === '') fail('SharedArray: name must be a non-empty string');
    const data = factory();
    if (!Array.isArray(data)) fail(`SharedArray "${name}": the factory must return an array`);
    return Object.freeze([...data]);
  }
}

export default { SharedArray };
