// SPDX-License-Identifier: Apache-2.0
// @ts-check
// One group: its policy in force in the plain words the learner reads, the push history and
// progress, and (for IT) pushing a new version: a bundle signed offline with `wardctl policy
// sign`. The collector checks the signature and the version; the signing key never comes near
// the browser.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.mjs';
import { errorText, get, post, query } from '../lib/api.mjs';
import { usePagedList } from '../lib/paged.mjs';
import { ErrorBox, Loading, MoreButton, PageTitle, Time } from '../lib/components.mjs';
import { Progress } from './groups.mjs';

/** @typedef {import('../lib/api.mjs').Group} Group */
/** @typedef {import('../lib/api.mjs').PolicyVersion} PolicyVersion */
/** @typedef {import('../lib/api.mjs').Me} Me */

/** @param {{name: string, me: Me}} props */
export function GroupPage({ name, me }) {
  const [group, setGroup] = useState(/** @type {Group | null} */ (null));
  const [error, setError] = useState('');
  const [pushError, setPushError] = useState('');
  const [pushed, setPushed] = useState('');
  const [pushing, setPushing] = useState(false);
  const [version, setVersion] = useState(0);
  const path = `/v1/staff/groups/${encodeURIComponent(name)}`;
  /** @type {{items: PolicyVersion[] | null, next: string, busy: boolean, error: string, more: () => Promise<void>}} */
  const history = usePagedList((cursor) => `${path}/policies${query({ limit: 20, cursor })}`, [
    name,
    version,
  ]);

  useEffect(() => {
    get(path)
      .then(({ data }) => setGroup(data))
      .catch((e) => setError(errorText(e)));
  }, [name, version]);

  /** @param {SubmitEvent} e */
  const push = async (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.currentTarget);
    const input = /** @type {HTMLInputElement} */ (form.elements.namedItem('bundle'));
    const file = input.files?.[0];
    setPushError('');
    setPushed('');
    if (!file) {
      setPushError('Choose the signed policy bundle first.');
      return;
    }
    setPushing(true);
    try {
      const { data } = await post(`/v1/staff/policy${query({ group: name })}`, {
        bytes: await file.arrayBuffer(),
      });
      form.reset();
      setPushed(`Version ${data.version} is now in force for ${name}. Laptops that are online pick it up within seconds.`);
      setVersion((v) => v + 1);
    } catch (err) {
      setPushError(errorText(err));
    }
    setPushing(false);
  };

  if (!group) {
    return html`<main id="main"><${PageTitle}>${name}<//>
      ${error ? html`<${ErrorBox} message=${error} />` : html`<${Loading} what="the group" />`}</main>`;
  }
  const policy = group.policy;
  return html`<main id="main">
    <p class="back"><a href="#/groups">Back to groups</a></p>
    <${PageTitle}>${group.name}<//>
    <dl class="facts">
      <dt>Policy in force</dt><dd>${policy ? `version ${policy.version}${policy.name ? ` (${policy.name})` : ''}` : 'none yet'}</dd>
      ${policy ? html`<dt>Mode</dt><dd>${policy.mode === 'enforce' ? 'enforce (blocks)' : 'monitor (only records)'}</dd>` : ''}
      ${policy ? html`<dt>Pushed</dt><dd><${Time} ms=${policy.pushed_at_ms} /> by ${policy.pushed_by}</dd>` : ''}
      <dt>Push progress</dt><dd><${Progress} g=${group} /></dd>
    </dl>
    ${policy
      ? html`<section aria-labelledby="words-title">
          <h2 id="words-title">What the policy means for learners</h2>
          <p class="hint">The same words a learner sees under “My policy” in the tray.</p>
          <ul class="policy-words">${(policy.summary ?? []).map((line) => html`<li>${line}</li>`)}</ul>
        </section>`
      : ''}
    <section aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <${ErrorBox} message=${history.error} />
      ${history.items === null
        ? html`<${Loading} what="the history" />`
        : history.items.length === 0
        ? html`<p>No policy has been pushed to this group.</p>`
        : html`<table>
            <caption class="visually-hidden">Policy versions pushed, newest first</caption>
            <thead><tr><th scope="col">Version</th><th scope="col">Pushed</th><th scope="col">By</th></tr></thead>
            <tbody>
              ${history.items.map(
                (p) => html`<tr key=${p.version}>
                  <td data-label="Version">${p.version}</td>
                  <td data-label="Pushed"><${Time} ms=${p.pushed_at_ms} /></td>
                  <td data-label="By">${p.pushed_by}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
      <${MoreButton} next=${history.next} busy=${history.busy} onMore=${history.more} label="Show older versions" />
    </section>
    ${me.role === 'it'
      ? html`<section aria-labelledby="push-title" class="push">
          <h2 id="push-title">Push a new version</h2>
          <p>
            Sign the policy on the signing machine with <code>wardctl policy sign</code>, then
            choose the bundle here. The collector checks its signature against this group’s key
            and that its version is newer than ${group.policy_version}.
          </p>
          <form onSubmit=${push}>
            <label for="bundle">Signed policy bundle</label>
            <input id="bundle" name="bundle" type="file" />
            <button type="submit" disabled=${pushing}>Check and push</button>
          </form>
          <${ErrorBox} message=${pushError} />
          ${pushed ? html`<p class="done" role="status">${pushed}</p>` : ''}
        </section>`
      : ''}
  </main>`;
}
