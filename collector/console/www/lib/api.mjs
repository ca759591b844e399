// SPDX-License-Identifier: Apache-2.0
// @ts-check
// Calls to the collector's staff API with the session cookie (sent by the browser, never seen
// by this code) and the session's CSRF token on every change. The staff token is sent once, at
// sign-in, and not kept. Every decision about who may see what is the collector's: a 401 means
// the session has ended, a 403 that the role may not do this.

/** @typedef {'it' | 'dsl' | 'viewer'} Role */
/** @typedef {{name: string, role: Role, csrf_token: string, idle_seconds: number}} Me */
/**
 * A concern as the API lists it. IT gets the redacted form: only id, device_id, group,
 * received_ms and status (and redacted: true).
 * @typedef {{id: string, device_id: string, group: string, received_ms: number,
 *   status: ConcernStatus, redacted: boolean, reference?: string, category?: number,
 *   text?: string, anonymous?: boolean, in_danger?: boolean, user?: string,
 *   device_time_ms?: number, has_screenshot?: boolean,
 *   notes?: Array<{author: string, text: string, at_ms: number}>}} Concern
 */
/** @typedef {'new' | 'in-progress' | 'referred' | 'closed'} ConcernStatus */
/** @typedef {{new: number, unread: number, urgent_open: number, unread_ids: string[]}} Summary */
/**
 * @typedef {{seq: number, kind: 'note' | 'status' | 'parent-contacted' | 'referred-external',
 *   author: string, text: string, at_ms: number}} LogEntry
 */
/** @typedef {{at_ms: number, staff: string, action: string, concern_id: string, concern_ids: string[]}} AuditRow */
/**
 * @typedef {{id: string, group: string, hostname: string, os: string, agent_version: string,
 *   policy_version: number, enrolled_at_ms: number, last_seen_ms: number, revoked: boolean,
 *   mode: string, degraded: string[]}} Device
 */
/**
 * @typedef {{seq: number, id: string, device_id: string, kind: string, priority: number,
 *   received_ms: number, event: Record<string, any>}} DeviceEvent
 */
/**
 * @typedef {{version: number, pushed_at_ms: number, pushed_by: string, name?: string,
 *   mode?: string, summary?: string[]}} PolicyVersion
 */
/**
 * @typedef {{name: string, policy_version: number, pushed_at_ms: number, pushed_by: string,
 *   devices: number, devices_on_newest: number, policy?: PolicyVersion}} Group
 */

let csrfToken = '';
/** @type {(message: string) => void} */
let sessionEnded = () => {};

/** @param {string} token */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** @param {(message: string) => void} fn called when the collector says the session ended */
export function onSessionEnded(fn) {
  sessionEnded = fn;
}

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * @typedef {object} CallOptions
 * @property {unknown} [json] sent as the JSON body
 * @property {ArrayBuffer} [bytes] sent as a binary body
 * @property {boolean} [background] made by the page itself, not the person: does not keep the
 *   session alive
 * @property {AbortSignal} [signal]
 */

/**
 * @param {string} method
 * @param {string} path with its query string
 * @param {CallOptions} [options]
 * @returns {Promise<{data: any, next: string}>} the JSON answer and the next page's cursor
 */
export async function call(method, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  /** @type {BodyInit | undefined} */
  let body;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.bytes !== undefined) {
    headers['Content-Type'] = 'application/x-protobuf';
    body = options.bytes;
  }
  if (method !== 'GET') {
    headers['X-Ward-CSRF'] = csrfToken;
  }
  if (options.background) {
    headers['X-Ward-Background'] = '1';
  }
  /** @type {Response} */
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: options.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') {
      throw e;
    }
    throw new ApiError(0, 'The collector cannot be reached. Check the network and try again.');
  }
  const text = await response.text();
  /** @type {any} */
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message =
      data && typeof data.message === 'string'
        ? data.message
        : `The collector answered ${response.status}.`;
    if (response.status === 401 && path !== '/v1/staff/session') {
      sessionEnded(message);
    }
    throw new ApiError(response.status, message);
  }
  return { data, next: response.headers.get('Ward-Next-Cursor') || '' };
}

/**
 * @param {string} path
 * @param {CallOptions} [options]
 */
export function get(path, options) {
  return call('GET', path, options);
}

/**
 * @param {string} path
 * @param {CallOptions} [options]
 */
export function post(path, options) {
  return call('POST', path, options);
}

/**
 * A query string from the parameters that have a value: "?a=1&b=x".
 * @param {Record<string, string | number | boolean | undefined | null>} params
 */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '' && value !== false) {
      q.set(key, String(value));
    }
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

/**
 * A message for a failed call, for a person.
 * @param {unknown} e
 */
export function errorText(e) {
  if (e instanceof ApiError) {
    const text = e.message.charAt(0).toUpperCase() + e.message.slice(1);
    if (e.status === 403) {
      return `Your role cannot do this. ${text}`;
    }
    return text;
  }
  return 'Something went wrong in the page. Reload it and try again.';
}
