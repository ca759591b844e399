// SPDX-License-Identifier: Apache-2.0
// @ts-check
// The DSL's inbox: "in danger now" concerns pinned on top, then every concern newest first,
// filtered by status, group and date. New concerns appear without a reload (the app's
// long-poll moves `tick`).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../lib/html.mjs';
import { errorText, get, query } from '../lib/api.mjs';
import { loadInbox, PAGE, takePrefetchedInbox } from '../lib/inbox_data.mjs';
import { categoryName, firstWords, STATUS_VALUES, statusName } from '../lib/format.mjs';
import { DangerBadge, ErrorBox, GroupFilter, Loading, MoreButton, PageTitle, StatusBadge, Time } from '../lib/components.mjs';

/** @typedef {import('../lib/api.mjs').Concern} Concern */
/** @typedef {import('../lib/api.mjs').Summary} Summary */

/** @param {string} day "2026-12-07" */
function dayStartMs(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d).getTime();
}

/**
 * One concern in a list.
 * @param {{c: Concern, unread: boolean}} props
 */
function Row({ c, unread }) {
  const who = c.anonymous ? 'anonymous' : c.user || 'anonymous';
  return html`<li class=${`concern${c.in_danger ? ' urgent' : ''}${unread ? ' unread' : ''}`}
      data-id=${c.id} data-reference=${c.reference}>
    <a href=${`#/concerns/${c.id}`}>
      <span class="line1">
        ${c.in_danger ? html`<${DangerBadge} />` : ''}
        <strong>${categoryName(c.category)}</strong>
        ${unread ? html`<span class="badge unread-mark">Not opened</span>` : ''}
      </span>
      <span class="words">${firstWords(c.text ?? '', 140)}</span>
      <span class="meta">
        <${Time} ms=${c.received_ms} /> · ${who} · ${c.group} · ref ${c.reference}
      </span>
    </a>
    <${StatusBadge} status=${c.status} />
  </li>`;
}

/** @param {{tick: number, summary: Summary | null}} props */
export function Inbox({ tick, summary }) {
  const [status, setStatus] = useState('');
  const [group, setGroup] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [urgent, setUrgent] = useState(/** @type {Concern[] | null} */ (null));
  const [items, setItems] = useState(/** @type {Concern[] | null} */ (null));
  const [next, setNext] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [arrived, setArrived] = useState('');
  const firstTick = useRef(tick);
  const marked = useRef(false);

  const filters = () => ({
    status,
    group,
    since_ms: from ? dayStartMs(from) : undefined,
    until_ms: to ? dayStartMs(to) + 24 * 60 * 60 * 1000 : undefined,
  });

  // The first page, again whenever a filter changes or a concern arrives.
  useEffect(() => {
    const background = tick !== firstTick.current;
    let live = true;
    if (!background) {
      setItems(null);  // new filters: "Loading", not the old list
    }
    const unfiltered = !status && !group && !from && !to;
    const page = (!background && unfiltered && takePrefetchedInbox()) || loadInbox(filters(), background);
    page
      .then(([u, list]) => {
        if (!live) {
          return;
        }
        setUrgent(u.data);
        setItems(list.data);
        setNext(list.next);
        setError('');
        if (background) {
          setArrived('A new concern has arrived.');
        }
      })
      .catch((e) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [status, group, from, to, tick]);

  useEffect(() => {
    if (items && !marked.current) {
      marked.current = true;
      // For the benchmark in docs/benchmarks.md: navigation start to the list on screen.
      performance.mark('ward:inbox-rendered');
    }
  }, [items]);

  const more = async () => {
    setBusy(true);
    try {
      const page = await get(`/v1/staff/concerns${query({ ...filters(), limit: PAGE, cursor: next })}`);
      setItems([...(items ?? []), ...page.data]);
      setNext(page.next);
    } catch (e) {
      setError(errorText(e));
    }
    setBusy(false);
  };

  const unread = new Set(summary?.unread_ids ?? []);
  return html`<main id="main">
    <${PageTitle}>Inbox<//>
    <p class="summary">
      ${summary
        ? `${summary.unread} not opened yet · ${summary.new} new · ${summary.urgent_open} in danger now and not closed`
        : ''}
    </p>
    <p class="visually-hidden" role="status" aria-live="polite">${arrived}</p>
    <${ErrorBox} message=${error} />
    <section class="pinned" aria-labelledby="urgent-title">
      <h2 id="urgent-title"><span aria-hidden="true">⚠ </span>In danger now</h2>
      ${urgent === null
        ? html`<${Loading} what="urgent concerns" />`
        : urgent.length === 0
          ? html`<p>No open concern says the learner is in danger now.</p>`
          : html`<ul class="concerns">${urgent.map((c) => html`<${Row} key=${c.id} c=${c} unread=${unread.has(c.id)} />`)}</ul>`}
    </section>
    <section aria-labelledby="all-title">
      <h2 id="all-title">All concerns, newest first</h2>
      <form class="filters" onSubmit=${(/** @type {Event} */ e) => e.preventDefault()}>
        <label>Status
          <select value=${status} onChange=${(/** @type {any} */ e) => setStatus(e.currentTarget.value)}>
            <option value="">Any status</option>
            ${STATUS_VALUES.map((s) => html`<option value=${s}>${statusName(s)}</option>`)}
          </select>
        </label>
        <${GroupFilter} value=${group} onChange=${setGroup} />
        <label>From
          <input type="date" value=${from} onChange=${(/** @type {any} */ e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>To
          <input type="date" value=${to} onChange=${(/** @type {any} */ e) => setTo(e.currentTarget.value)} />
        </label>
      </form>
      ${items === null
        ? html`<${Loading} what="concerns" />`
        : items.length === 0
          ? html`<p>No concerns match.</p>`
          : html`<ul class="concerns" aria-label="Concerns">
              ${items.map((c) => html`<${Row} key=${c.id} c=${c} unread=${unread.has(c.id)} />`)}
            </ul>`}
      <${MoreButton} next=${next} busy=${busy} onMore=${more} label="Show older concerns" />
    </section>
  </main>`;
}
