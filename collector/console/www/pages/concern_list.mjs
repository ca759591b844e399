// SPDX-License-Identifier: Apache-2.0
// @ts-check
// IT's view of concerns: that they exist (id, device, group, time, status), never what they
// say. The collector sends IT nothing more.
import { html } from '../lib/html.mjs';
import { query } from '../lib/api.mjs';
import { usePagedList } from '../lib/paged.mjs';
import { ErrorBox, Loading, MoreButton, PageTitle, StatusBadge, Time } from '../lib/components.mjs';

/** @typedef {import('../lib/api.mjs').Concern} Concern */

const PAGE = 50;

/** @param {{tick: number}} props */
export function ConcernList({ tick }) {
  /** @type {{items: Concern[] | null, next: string, busy: boolean, error: string, more: () => Promise<void>}} */
  const { items, next, busy, error, more } = usePagedList(
    (cursor) => `/v1/staff/concerns${query({ limit: PAGE, cursor })}`,
    [tick],
    tick > 0,
  );

  return html`<main id="main">
    <${PageTitle}>Concerns<//>
    <p class="notice">
      Learners’ concerns go to the safeguarding team. You can see that a concern exists, on which
      device and when, and its status; only the safeguarding team can read it.
    </p>
    <${ErrorBox} message=${error} />
    ${items === null
      ? html`<${Loading} what="concerns" />`
      : items.length === 0
        ? html`<p>No concerns.</p>`
        : html`<table>
            <caption class="visually-hidden">Concerns, newest first</caption>
            <thead><tr><th scope="col">Received</th><th scope="col">Device</th><th scope="col">Group</th><th scope="col">Status</th><th scope="col">Id</th></tr></thead>
            <tbody>
              ${items.map(
                (c) => html`<tr key=${c.id} data-id=${c.id}>
                  <td data-label="Received"><${Time} ms=${c.received_ms} /></td>
                  <td data-label="Device"><a href=${`#/devices/${c.device_id}`}>${c.device_id}</a></td>
                  <td data-label="Group">${c.group}</td>
                  <td data-label="Status"><${StatusBadge} status=${c.status} /></td>
                  <td data-label="Id"><a href=${`#/concerns/${c.id}`}><code>${c.id}</code></a></td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    <${MoreButton} next=${next} busy=${busy} onMore=${more} label="Show older concerns" />
  </main>`;
}
