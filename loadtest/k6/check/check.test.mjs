// Tests of the k6 checks themselves: the real scripts pass, and each kind of mistake the checks
// exist for is caught with a message that names it. Run: node --test loadtest/k6/check/
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const k6Dir = here('../');
const scripts = ['plaintext.js', 'pipelined.js', 'mixed.js', 'offload.js', 'antipattern.js'];

function checkOne(script, env = {}) {
  return spawnSync(process.execPath, [here('./check-one.mjs'), script], {
    cwd: k6Dir,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
}

function assertRefused(fixture, ...messages) {
  const result = checkOne(`check/fixtures/${fixture}`);
  assert.notEqual(result.status, 0, `${fixture} was accepted:\n${result.stdout}`);
  for (const message of messages) assert.match(result.stderr, message);
}

test('every scenario script loads, has valid options and runs one iteration', () => {
  for (const script of scripts) {
    const result = checkOne(script);
    assert.equal(result.status, 0, `${script}:\n${result.stderr}`);
    assert.match(result.stdout, /^ok .*[1-9]\d* request\(s\)/);
  }
});

test('the offload and anti-pattern scripts request their load paths', () => {
  assert.match(checkOne('offload.js', { WORK: '123' }).stdout, /scenarios \[load, probe\], 2 request/);
  const mixed = checkOne('mixed.js', { HASH_PERCENT: '100' });
  assert.equal(mixed.status, 0, mixed.stderr);
});

test('a malformed environment value stops the script at start-up', () => {
  const result = checkOne('offload.js', { WORK: 'lots' });
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /WORK=lots: expected a positive integer/);
});

test('a misspelt executor is refused', () => {
  assertRefused('bad-executor.js', /"ramping-vu" is not a k6 executor/);
});

test('malformed thresholds are refused, each for its own reason', () => {
  assertRefused(
    'bad-threshold.js',
    /"p99<50" is not "aggregation operator number"/,
    /"p\(99\)" does not apply to http_req_failed, a rate/,
    /no metric "http_req_duratoin"/,
  );
});

test('a scenario whose exec function is not exported is refused', () => {
  assertRefused('missing-exec.js', /exports no function "probe"/);
});

test('a duration k6 cannot parse is refused', () => {
  assertRefused('bad-duration.js', /"10 seconds" is not a duration/);
});

test('a relative request URL fails the iteration', () => {
  assertRefused('relative-url.js', /not an absolute URL/);
});

test('a syntax error fails the load', () => {
  assertRefused('syntax-error.js', /SyntaxError/);
});

test("TypeScript with k6's types refuses options of the wrong type or name", (t) => {
  const tsc = here('../node_modules/typescript/bin/tsc');
  assert.ok(existsSync(tsc), 'typescript is not installed: tests/loadtest/npm-ci.sh installs it');
  const result = spawnSync(
    process.execPath,
    [tsc, '--noEmit', '--allowJs', '--checkJs', '--strict', '--target', 'es2020', '--module', 'es2020',
      '--moduleResolution', 'node', '--types', 'k6', here('./fixtures/bad-types.js'),
      here('./fixtures/bad-executor.js')],
    { cwd: k6Dir, encoding: 'utf8' },
  );
  assert.notEqual(result.status, 0, 'tsc accepted bad-types.js');
  assert.match(result.stdout, /bad-types\.js.*TS2322.*'string' is not assignable to type 'number'/);
  assert.match(result.stdout, /bad-types\.js.*TS2561.*'durration' does not exist in type 'Options'/);
  assert.match(result.stdout, /bad-executor\.js.*TS2820.*"ramping-vu"/);
  t.diagnostic(result.stdout.trim());
});
