// SPDX-License-Identifier: Apache-2.0
// @ts-check
// The fleet: every laptop with its group, OS, agent version, mode, last contact and what is
// not working, with filters for "not seen for 7 days" and "degraded".
import { useState } from 'preact/hooks';
import { html } from '../lib/html.mjs';
import { query } from '../lib/api.mjs';
import { usePagedList } from '../lib/paged.mjs';
import { degradedText, formatAge } from '../lib/format.mjs';
import { ErrorBox, Loading, MoreButton, PageTitle, GroupFilter, Time } from '../lib/components.mjs';

/** @typedef {import('../lib/api.mjs').Device} Device */

const PAGE = 100;

export function Devices() {
  const [group, setGroup] = useState('');
  const [stale, setStale] = useState(false);
  const [degraded, setDegraded] = useState(false);
  /** @type {{items: Device[] | null, next: string, busy: boolean, error: string, more: () => Promise<void>}} */
  const { items, next, busy, error, more } = usePagedList(
    (cursor) =>
      `/v1/staff/devices${query({
        group,
        not_seen_days: stale ? 7 : undefined,
        degraded: degraded ? 1 : undefined,
        limit: PAGE,
        cursor,
      })}`,
    [group, stale, degraded],
  );

  return html`<main id="main">
    <${PageTitle}>Devices<//>
    <form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
      <${GroupFilter} value=${group} onChange=${setGroup} />
      <label class="check"><input type="checkbox" checked=${stale}
        onChange=${(/** @type {any} */ e) => setStale(e.currentTarget.checked)} /> Not seen for 7 days</label>
      <label class="check"><input type="checkbox" checked=${degraded}
        onChange=${(/** @type {any} */ e) => setDegraded(e.currentTarget.checked)} /> Degraded</label>
    </form>
    <${ErrorBox} message=${error} />
    ${items === null
      ? html`<${Loading} what="devices" />`
      : items.length === 0
        ? html`<p>No devices match.</p>`
        : html`<table class="devices">
            <caption class="visually-hidden">Devices by name</caption>
            <thead><tr>
              <th scope="col">Name</th><th scope="col">Group</th><th scope="col">OS</th>
              <th scope="col">Agent</th><th scope="col">Mode</th><th scope="col">Last seen</th>
              <th scope="col">Problems</th>
            </tr></thead>
            <tbody>
              ${items.map(
                (d) => html`<tr key=${d.id} data-id=${d.id}>
                  <td data-label="Name"><a href=${`#/devices/${d.id}`}>${d.hostname || d.id}</a>${d.revoked ? html` <span class="badge">revoked</span>` : ''}</td>
                  <td data-label="Group">${d.group}</td>
                  <td data-label="OS">${d.os}</td>
                  <td data-label="Agent">${d.agent_version}</td>
                  <td data-label="Mode">${d.mode || 'unknown'}</td>
                  <td data-label="Last seen"><${Time} ms=${d.last_seen_ms} /> <span class="age">(${formatAge(d.last_seen_ms)})</span></td>
                  <td data-label="Problems">${d.degraded.length === 0
                    ? 'none'
                    : html`<ul class="plain">${d.degraded.map((p) => html`<li class="problem">${degradedText(p)}</li>`)}</ul>`}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    <${MoreButton} next=${next} busy=${busy} onMore=${more} label="Show more devices" />
  </main>`;
}
