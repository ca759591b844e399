// SPDX-License-Identifier: Apache-2.0
// @ts-check
// The inbox's first page: urgent concerns and the newest concerns. boot.mjs may ask for it as
// soon as it knows a DSL is signed in and the inbox is the page to show, while the rest of the
// console is still starting; the inbox then takes that answer instead of asking again.
import { get, query } from './api.mjs';

export const PAGE = 50;

/**
 * @param {Record<string, string | number | undefined>} filters
 * @param {boolean} background
 */
export function loadInbox(filters, background) {
  return Promise.all([
    get(`/v1/staff/concerns/urgent${query({ limit: PAGE })}`, { background }),
    get(`/v1/staff/concerns${query({ ...filters, limit: PAGE })}`, { background }),
  ]);
}

/** @type {ReturnType<typeof loadInbox> | null} */
let early = null;

/** Starts loading the unfiltered first page now. */
export function prefetchInbox() {
  early = loadInbox({}, false);
  early.catch(() => {});
}

/** The page boot.mjs asked for, once; null when it asked for none. */
export function takePrefetchedInbox() {
  const p = early;
  early = null;
  return p;
}
