// SPDX-License-Identifier: Apache-2.0
// @ts-check
// Small pieces the pages share.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, query } from './api.mjs';
import { html } from './html.mjs';
import { formatTime, statusName } from './format.mjs';

/**
 * The page's heading; it takes the keyboard focus when the page changes, so a screen reader
 * announces the new page.
 * @param {{children: any}} props
 */
export function PageTitle({ children }) {
  const ref = useRef(/** @type {HTMLHeadingElement | null} */ (null));
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

/**
 * A time as "Mon 7 Dec 14:05", machine-readable too.
 * @param {{ms: number}} props
 */
export function Time({ ms }) {
  if (!ms) {
    return html`<span>never</span>`;
  }
  return html`<time datetime=${new Date(ms).toISOString()}>${formatTime(ms)}</time>`;
}

/** @param {{status: string}} props */
export function StatusBadge({ status }) {
  return html`<span class=${`badge status-${status}`}>${statusName(status)}</span>`;
}

/** The mark of a concern whose learner said they are in danger now. */
export function DangerBadge() {
  return html`<span class="badge danger"><span aria-hidden="true">⚠ </span>In danger now</span>`;
}

/** @param {{message: string}} props */
export function ErrorBox({ message }) {
  if (!message) {
    return null;
  }
  return html`<p class="error" role="alert">${message}</p>`;
}

/** @param {{what?: string}} props */
export function Loading({ what }) {
  return html`<p class="loading" role="status">Loading ${what ?? ''}…</p>`;
}

/**
 * "Show more" for a paged list: shown while the collector says there is a next page.
 * @param {{next: string, busy: boolean, onMore: () => void, label: string}} props
 */
export function MoreButton({ next, busy, onMore, label }) {
  if (!next) {
    return null;
  }
  return html`<p class="more">
    <button type="button" onClick=${onMore} disabled=${busy}>${busy ? 'Loading…' : label}</button>
  </p>`;
}

/**
 * "Group" for a filter form: every group, by name ("" for all).
 * @param {{value: string, onChange: (group: string) => void}} props
 */
export function GroupFilter({ value, onChange }) {
  const [groups, setGroups] = useState(/** @type {string[]} */ ([]));
  useEffect(() => {
    get(`/v1/staff/groups${query({ limit: 500 })}`)
      .then(({ data }) => setGroups(data.map((/** @type {{name: string}} */ g) => g.name)))
      .catch(() => {});
  }, []);
  return html`<label>Group
    <select value=${value} onChange=${(/** @type {any} */ e) => onChange(e.currentTarget.value)}>
      <option value="">Every group</option>
      ${groups.map((g) => html`<option value=${g}>${g}</option>`)}
    </select>
  </label>`;
}
