import { check } from 'k6';

/**
 * Checks that GET / answered 200 with brigade's greeting.
 * @param {import('k6/http').RefinedResponse<any>} response
 */
export function checkHello(response) {
  check(response, {
    'GET / is 200': (r) => r.status === 200,
    'GET / says hello': (r) => typeof r.body === 'string' && r.body.startsWith('Hello'),
  });
}
