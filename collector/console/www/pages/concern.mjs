// SPDX-License-Identifier: Apache-2.0
// @ts-check
// One concern. The DSL reads it in full, keeps its incident log (status, notes, parent or
// guardian contacted, referral) and may look at the screenshot on request. IT gets what the
// collector gives IT: that the concern exists, never what it says.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.mjs';
import { errorText, get, post, query } from '../lib/api.mjs';
import { categoryName, logKindName, STATUS_VALUES, statusName } from '../lib/format.mjs';
import { DangerBadge, ErrorBox, Loading, MoreButton, PageTitle, StatusBadge, Time } from '../lib/components.mjs';

/** @typedef {import('../lib/api.mjs').Concern} Concern */
/** @typedef {import('../lib/api.mjs').LogEntry} LogEntry */
/** @typedef {import('../lib/api.mjs').Me} Me */

/**
 * @param {{id: string, me: Me, onChanged: () => void}} props
 */
export function ConcernPage({ id, me, onChanged }) {
  const [concern, setConcern] = useState(/** @type {Concern | null} */ (null));
  const [hostname, setHostname] = useState('');
  const [log, setLog] = useState(/** @type {LogEntry[]} */ ([]));
  const [logNext, setLogNext] = useState('');
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const [busy, setBusy] = useState(false);
  const [showShot, setShowShot] = useState(false);
  const [version, setVersion] = useState(0);
  const dsl = me.role === 'dsl';

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const { data } = await get(`/v1/staff/concerns/${encodeURIComponent(id)}`);
        if (!live) {
          return;
        }
        setConcern(data);
        get(`/v1/staff/devices/${encodeURIComponent(data.device_id)}`)
          .then(({ data: d }) => live && setHostname(d.hostname))
          .catch(() => {});
        if (dsl) {
          const page = await get(`/v1/staff/concerns/${encodeURIComponent(id)}/log${query({ limit: 200 })}`);
          if (live) {
            setLog(page.data);
            setLogNext(page.next);
          }
        }
      } catch (e) {
        if (live) {
          setError(errorText(e));
        }
      }
    })();
    return () => {
      live = false;
    };
  }, [id, version]);

  /**
   * Sends one change, then reloads the concern and its log.
   * @param {string} path
   * @param {unknown} body
   * @param {string} message said when it worked
   * @param {HTMLFormElement | null} form reset when it worked
   */
  const change = async (path, body, message, form) => {
    setBusy(true);
    setError('');
    setDone('');
    try {
      await post(`/v1/staff/concerns/${encodeURIComponent(id)}/${path}`, { json: body });
      form?.reset();
      setDone(message);
      setVersion((v) => v + 1);
      onChanged();
    } catch (e) {
      setError(errorText(e));
    }
    setBusy(false);
  };

  /**
   * @param {SubmitEvent} e
   * @returns {[HTMLFormElement, (name: string) => string]}
   */
  const formOf = (e) => {
    e.preventDefault();
    const form = /** @type {HTMLFormElement} */ (e.currentTarget);
    const value = (/** @type {string} */ name) =>
      String(new FormData(form).get(name) ?? '').trim();
    return [form, value];
  };

  const moreLog = async () => {
    setBusy(true);
    try {
      const page = await get(`/v1/staff/concerns/${encodeURIComponent(id)}/log${query({ limit: 200, cursor: logNext })}`);
      setLog([...log, ...page.data]);
      setLogNext(page.next);
    } catch (e) {
      setError(errorText(e));
    }
    setBusy(false);
  };

  if (!concern) {
    return html`<main id="main"><${PageTitle}>Concern<//>
      ${error ? html`<${ErrorBox} message=${error} />` : html`<${Loading} what="the concern" />`}</main>`;
  }
  const device = html`<a href=${`#/devices/${concern.device_id}`}>${hostname || concern.device_id}</a>`;

  if (concern.redacted) {
    return html`<main id="main">
      <${PageTitle}>Concern<//>
      <p class="notice">Only the safeguarding team can read what a concern says. You can see that it exists.</p>
      <dl class="facts">
        <dt>Id</dt><dd><code>${concern.id}</code></dd>
        <dt>Device</dt><dd>${device}</dd>
        <dt>Group</dt><dd>${concern.group}</dd>
        <dt>Received</dt><dd><${Time} ms=${concern.received_ms} /></dd>
        <dt>Status</dt><dd><${StatusBadge} status=${concern.status} /></dd>
      </dl>
    </main>`;
  }

  return html`<main id="main">
    <p class="back"><a href="#/inbox">Back to the inbox</a></p>
    <${PageTitle}>Concern ${concern.reference}<//>
    ${concern.in_danger
      ? html`<p class="danger-banner" role="note"><${DangerBadge} /> The learner said they are in danger now.</p>`
      : ''}
    <section aria-labelledby="words-title">
      <h2 id="words-title">In the learner’s words</h2>
      <blockquote class="words">${concern.text}</blockquote>
      <dl class="facts">
        <dt>Category</dt><dd>${categoryName(concern.category)}</dd>
        <dt>From</dt><dd>${concern.anonymous ? 'anonymous (the learner asked not to attach their name)' : concern.user || 'anonymous'}</dd>
        <dt>Device</dt><dd>${device}</dd>
        <dt>Group</dt><dd>${concern.group}</dd>
        <dt>Sent</dt><dd><${Time} ms=${concern.device_time_ms || concern.received_ms} /></dd>
        <dt>Received</dt><dd><${Time} ms=${concern.received_ms} /></dd>
        <dt>Status</dt><dd><${StatusBadge} status=${concern.status} /></dd>
      </dl>
      ${concern.has_screenshot
        ? showShot
          ? html`<figure class="screenshot">
              <img src=${`/v1/staff/concerns/${encodeURIComponent(concern.id)}/screenshot`} alt="The screenshot the learner attached" />
              <figcaption><button type="button" onClick=${() => setShowShot(false)}>Hide screenshot</button></figcaption>
            </figure>`
          : html`<p><button type="button" onClick=${() => setShowShot(true)}>Show the screenshot the learner attached</button></p>`
        : html`<p>No screenshot was attached.</p>`}
    </section>

    <section aria-labelledby="log-title">
      <h2 id="log-title">Incident log</h2>
      ${log.length === 0
        ? html`<p>Nothing has been recorded yet.</p>`
        : html`<ol class="log">
            ${log.map(
              (entry) => html`<li key=${entry.seq} class=${`log-${entry.kind}`}>
                <span class="kind">${logKindName(entry.kind)}</span>
                <span class="text">${entry.text}</span>
                <span class="meta">${entry.author}, <${Time} ms=${entry.at_ms} /></span>
              </li>`,
            )}
          </ol>`}
      <${MoreButton} next=${logNext} busy=${busy} onMore=${moreLog} label="Show more of the log" />
    </section>

    <section aria-labelledby="act-title" class="actions">
      <h2 id="act-title">Record what you did</h2>
      <p class="visually-hidden" role="status">${done}</p>
      ${done ? html`<p class="done" aria-hidden="true">${done}</p>` : ''}
      <${ErrorBox} message=${error} />
      <form onSubmit=${(/** @type {SubmitEvent} */ e) => {
        const [form, value] = formOf(e);
        const next = value('status');
        change('status', { status: next }, `Status set to ${statusName(next).toLowerCase()}.`, form);
      }}>
        <label for="status">Status</label>
        <div class="row">
          <select id="status" name="status">
            ${STATUS_VALUES.map((s) => html`<option value=${s} selected=${s === concern.status}>${statusName(s)}</option>`)}
          </select>
          <button type="submit" disabled=${busy}>Save status</button>
        </div>
      </form>
      <form onSubmit=${(/** @type {SubmitEvent} */ e) => {
        const [form, value] = formOf(e);
        const text = value('note');
        if (!text) {
          setError('Write the note first.');
          return;
        }
        change('notes', { text }, 'Note added.', form);
      }}>
        <label for="note">Add a note</label>
        <textarea id="note" name="note" rows="3"></textarea>
        <button type="submit" disabled=${busy}>Add note</button>
      </form>
      <form onSubmit=${(/** @type {SubmitEvent} */ e) => {
        const [form, value] = formOf(e);
        change('actions', { kind: 'parent-contacted', text: value('parent') }, 'Recorded: parent or guardian contacted.', form);
      }}>
        <label for="parent">Parent or guardian contacted <span class="hint">(who, how; optional)</span></label>
        <input id="parent" name="parent" type="text" />
        <button type="submit" disabled=${busy}>Record parent or guardian contacted</button>
      </form>
      <form onSubmit=${(/** @type {SubmitEvent} */ e) => {
        const [form, value] = formOf(e);
        const agency = value('agency');
        if (!agency) {
          setError('Say which agency the concern was referred to.');
          return;
        }
        change('actions', { kind: 'referred-external', text: agency }, 'Recorded: referred to an external agency.', form);
      }}>
        <label for="agency">Referred to an external agency <span class="hint">(which one)</span></label>
        <input id="agency" name="agency" type="text" />
        <button type="submit" disabled=${busy}>Record referral</button>
      </form>
    </section>
  </main>`;
}
