// SPDX-License-Identifier: Apache-2.0
// @ts-check
// The audit log: who listed, read or changed which concern, and when. Newest first.
import { html } from '../lib/html.mjs';
import { query } from '../lib/api.mjs';
import { usePagedList } from '../lib/paged.mjs';
import { auditActionName } from '../lib/format.mjs';
import { ErrorBox, Loading, MoreButton, PageTitle, Time } from '../lib/components.mjs';

/** @typedef {import('../lib/api.mjs').AuditRow} AuditRow */

const PAGE = 100;

/**
 * The concerns an entry names: a list is one entry naming every concern it showed.
 * @param {AuditRow} r
 */
function subjects(r) {
  return r.concern_ids && r.concern_ids.length > 0 ? r.concern_ids : [r.concern_id];
}

export function AuditLog() {
  /** @type {{items: AuditRow[] | null, next: string, busy: boolean, error: string, more: () => Promise<void>}} */
  const { items: rows, next, busy, error, more } = usePagedList(
    (cursor) => `/v1/staff/audit${query({ limit: PAGE, cursor })}`,
    [],
  );

  return html`<main id="main">
    <${PageTitle}>Audit log<//>
    <p>Every time someone lists, opens or changes a concern, it is written here. Nobody can edit it.</p>
    <${ErrorBox} message=${error} />
    ${rows === null
      ? html`<${Loading} what="the audit log" />`
      : rows.length === 0
        ? html`<p>Nothing has been recorded yet.</p>`
        : html`<table class="audit">
            <caption class="visually-hidden">Audit log, newest first</caption>
            <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Concern</th></tr></thead>
            <tbody>
              ${rows.map(
                (r, i) => html`<tr key=${i}>
                  <td data-label="When"><${Time} ms=${r.at_ms} /></td>
                  <td data-label="Who">${r.staff}</td>
                  <td data-label="What" data-action=${r.action}>${auditActionName(r.action)}</td>
                  <td data-label="Concern">${subjects(r).map(
                    (id, j) => html`${j > 0 ? ' ' : ''}<a key=${id} href=${`#/concerns/${id}`}><code>${id.slice(0, 8)}</code><span class="visually-hidden">${id.slice(8)}</span></a>`,
                  )}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    <${MoreButton} next=${next} busy=${busy} onMore=${more} label="Show older entries" />
  </main>`;
}
