// SPDX-License-Identifier: Apache-2.0
// @ts-check
// Groups and their policies: the version in force, who pushed it and when, and how many of
// the group's devices already run it.
import { html } from '../lib/html.mjs';
import { query } from '../lib/api.mjs';
import { usePagedList } from '../lib/paged.mjs';
import { ErrorBox, Loading, MoreButton, PageTitle, Time } from '../lib/components.mjs';

/** @typedef {import('../lib/api.mjs').Group} Group */

/**
 * "37 of 40 devices run version 5", as a bar too.
 * @param {{g: Group}} props
 */
export function Progress({ g }) {
  if (g.policy_version === 0) {
    return html`<span>No policy pushed yet</span>`;
  }
  const text = `${g.devices_on_newest} of ${g.devices} devices run version ${g.policy_version}`;
  return html`<span class="progress">
    <progress max=${Math.max(1, g.devices)} value=${g.devices_on_newest} aria-label=${text}></progress>
    <span>${text}</span>
  </span>`;
}

export function Groups() {
  /** @type {{items: Group[] | null, next: string, busy: boolean, error: string, more: () => Promise<void>}} */
  const { items: groups, next, busy, error, more } = usePagedList(
    (cursor) => `/v1/staff/groups${query({ limit: 100, cursor })}`,
    [],
  );

  return html`<main id="main">
    <${PageTitle}>Groups and policies<//>
    <${ErrorBox} message=${error} />
    ${groups === null
      ? html`<${Loading} what="groups" />`
      : groups.length === 0
        ? html`<p>No groups yet. IT adds them with <code>ward-collector add-group</code>.</p>`
        : html`<table>
            <caption class="visually-hidden">Groups</caption>
            <thead><tr><th scope="col">Group</th><th scope="col">Policy in force</th><th scope="col">Pushed</th><th scope="col">Push progress</th></tr></thead>
            <tbody>
              ${groups.map(
                (g) => html`<tr key=${g.name}>
                  <td data-label="Group"><a href=${`#/groups/${encodeURIComponent(g.name)}`}>${g.name}</a></td>
                  <td data-label="Policy in force">${g.policy_version ? `version ${g.policy_version}` : 'none'}</td>
                  <td data-label="Pushed">${g.pushed_at_ms ? html`<${Time} ms=${g.pushed_at_ms} /> by ${g.pushed_by}` : ''}</td>
                  <td data-label="Push progress"><${Progress} g=${g} /></td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    <${MoreButton} next=${next} busy=${busy} onMore=${more} label="Show more groups" />
  </main>`;
}
