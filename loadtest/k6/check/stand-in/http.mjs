// Stand-in for `k6/http`: every request is checked (absolute http(s) URL, known method and
// params, string headers and tags), recorded, and answered with a 200 whose body is "{}".
import { checkTags } from './k6.mjs';
import { fail, inInitContext, state } from './state.mjs';

const METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']);
const PARAMS = new Set([
  'auth', 'cookies', 'compression', 'headers', 'jar', 'redirects', 'responseCallback',
  'responseType', 'tags', 'timeout',
]);

function checkParams(params, where) {
  if (params === undefined || params === null) return;
  if (typeof params !== 'object' || Array.isArray(params)) fail(`${where}: params must be an object`);
  for (const key of Object.keys(params)) {
    if (!PARAMS.has(key)) fail(`${where}: unknown param "${key}" (k6 knows: ${[...PARAMS].join(', ')})`);
  }
  if (params.headers !== undefined) {
    for (const [name, value] of Object.entries(params.headers)) {
      if (typeof value !== 'string') fail(`${where}: header "${name}" must be a string`);
    }
  }
  if (params.tags !== undefined) checkTags(params.tags, `${where} tags`);
  if (params.timeout !== undefined && typeof params.timeout !== 'number' && typeof params.timeout !== 'string') {
    fail(`${where}: timeout must be a duration string or milliseconds`);
  }
}

export function request(method, url, body, params) {
  const where = `http ${method} ${url}`;
  if (inInitContext()) fail(`${where}: requests are not allowed in the init context`);
  if (typeof method !== 'string' || !METHODS.has(method.toUpperCase())) fail(`${where}: unknown method`);
  let parsed;
  try {
    parsed = new URL(String(url));
  } catch {
    fail(`${where}: not an absolute URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(`${where}: not an http(s) URL`);
  if (body !== undefined && body !== null && !['string', 'object'].includes(typeof body)) {
    fail(`${where}: body must be a string, an ArrayBuffer or an object of form fields`);
  }
  checkParams(params, where);
  state.requests.push({ method: method.toUpperCase(), url: parsed.href, scenario: state.context.scenario });
  return response(method.toUpperCase(), parsed.href);
}

function response(method, url) {
  const body = '{}';
  return {
    status: 200,
    status_text: '200 OK',
    body,
    headers: { 'Content-Type': 'application/json' },
    url,
    error: '',
    error_code: 0,
    proto: 'HTTP/1.1',
    timings: { duration: 1, blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting: 1, receiving: 0 },
    request: { method, url, headers: {}, body: '' },
    json(selector) {
      const value = JSON.parse(body);
      return selector === undefined ? value : selector.split('.').reduce((v, key) => v?.[key], value);
    },
  };
}

export const get = (url, params) => request('GET', url, null, params);
export const head = (url, params) => request('HEAD', url, null, params);
export const post = (url, body, params) => request('POST', url, body, params);
export const put = (url, body, params) => request('PUT', url, body, params);
export const patch = (url, body, params) => request('PATCH', url, body, params);
export const del = (url, body, params) => request('DELETE', url, body, params);
export const options = (url, body, params) => request('OPTIONS', url, body, params);

// k6 takes a batch as an array or an object of requests, each a URL, an array
// [method, url, body, params] or an object {method, url, body, params}.
export function batch(requests) {
  const one = (item) => {
    if (typeof item === 'string') return request('GET', item, null, undefined);
    if (Array.isArray(item)) return request(item[0], item[1], item[2], item[3]);
    if (item && typeof item === 'object') return request(item.method ?? 'GET', item.url, item.body, item.params);
    return fail(`http.batch: cannot send ${JSON.stringify(item)}`);
  };
  if (Array.isArray(requests)) return requests.map(one);
  if (requests && typeof requests === 'object') {
    return Object.fromEntries(Object.entries(requests).map(([name, item]) => [name, one(item)]));
  }
  return fail('http.batch: expected an array or an object of requests');
}

export function expectedStatuses(...ranges) {
  for (const range of ranges) {
    const ok = Number.isInteger(range) || (range && Number.isInteger(range.min) && Number.isInteger(range.max));
    if (!ok) fail(`http.expectedStatuses: ${JSON.stringify(range)} is neither a status nor {min, max}`);
  }
  return { ranges };
}

export function setResponseCallback(callback) {
  if (callback !== null && (typeof callback !== 'object' || !('ranges' in callback))) {
    fail('http.setResponseCallback: expected http.expectedStatuses(...) or null');
  }
}

export function file(data, filename, contentType) {
  return { data, filename, content_type: contentType ?? 'application/octet-stream' };
}

export default {
  request, get, head, post, put, patch, del, options, batch, expectedStatuses, setResponseCallback, file,
};
