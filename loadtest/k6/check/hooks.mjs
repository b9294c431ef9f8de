// Module resolution hooks (node's module.register): `k6` and `k6/...` imports resolve to the
// stand-ins in ./stand-in/. A k6 module without a stand-in fails with a message naming it.
const standIns = new Map([
  ['k6', 'k6.mjs'],
  ['k6/http', 'http.mjs'],
  ['k6/metrics', 'metrics.mjs'],
  ['k6/execution', 'execution.mjs'],
  ['k6/data', 'data.mjs'],
]);

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'k6' || specifier.startsWith('k6/')) {
    const file = standIns.get(specifier);
    if (!file) {
      throw new Error(
        `${specifier}: no stand-in for this k6 module (stand-ins: ${[...standIns.keys()].join(', ')})`,
      );
    }
    return { url: new URL(`./stand-in/${file}`, import.meta.url).href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
