// SPDX-License-Identifier: Apache-2.0
// @ts-check
// One laptop and what it reported lately: USB decisions, blocked programs, settings put
// back, tampering. A concern shows only that one was reported, unless you are the DSL.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../lib/html.mjs';
import { errorText, get, query } from '../lib/api.mjs';
import { usePagedList } from '../lib/paged.mjs';
import { degradedText, describeEvent, formatAge } from '../lib/format.mjs';
import { ErrorBox, Loading, MoreButton, PageTitle, Time } from '../lib/components.mjs';

/** @typedef {import('../lib/api.mjs').Device} Device */
/** @typedef {import('../lib/api.mjs').DeviceEvent} DeviceEvent */
/** @typedef {import('../lib/api.mjs').Me} Me */

const PAGE = 50;

/** @param {{id: string, me: Me}} props */
export function DevicePage({ id, me }) {
  const [device, setDevice] = useState(/** @type {Device | null} */ (null));
  const [deviceError, setDeviceError] = useState('');
  const path = `/v1/staff/devices/${encodeURIComponent(id)}`;
  /** @type {{items: DeviceEvent[] | null, next: string, busy: boolean, error: string, more: () => Promise<void>}} */
  const { items: events, next, busy, error, more } = usePagedList(
    (cursor) => `${path}/events${query({ limit: PAGE, cursor })}`,
    [id],
  );

  useEffect(() => {
    get(path)
      .then(({ data }) => setDevice(data))
      .catch((e) => setDeviceError(errorText(e)));
  }, [id]);

  if (!device) {
    return html`<main id="main"><${PageTitle}>Device<//>
      ${deviceError ? html`<${ErrorBox} message=${deviceError} />` : html`<${Loading} what="the device" />`}</main>`;
  }
  return html`<main id="main">
    <p class="back"><a href="#/devices">Back to devices</a></p>
    <${PageTitle}>${device.hostname || device.id}<//>
    <dl class="facts">
      <dt>Group</dt><dd><a href=${`#/groups/${encodeURIComponent(device.group)}`}>${device.group}</a></dd>
      <dt>OS</dt><dd>${device.os}</dd>
      <dt>Agent</dt><dd>${device.agent_version}</dd>
      <dt>Mode</dt><dd>${device.mode || 'unknown'}</dd>
      <dt>Policy version</dt><dd>${device.policy_version}</dd>
      <dt>Last seen</dt><dd><${Time} ms=${device.last_seen_ms} /> (${formatAge(device.last_seen_ms)})</dd>
      <dt>Enrolled</dt><dd><${Time} ms=${device.enrolled_at_ms} /></dd>
      <dt>Problems</dt><dd>${device.degraded.length === 0 ? 'none' : device.degraded.map(degradedText).join('; ')}</dd>
      <dt>Id</dt><dd><code>${device.id}</code></dd>
    </dl>
    ${device.revoked ? html`<p class="notice">This device has been revoked: the collector refuses it.</p>` : ''}
    <section aria-labelledby="events-title">
      <h2 id="events-title">Recent events</h2>
      <${ErrorBox} message=${error} />
      ${events === null
        ? html`<${Loading} what="events" />`
        : events.length === 0
          ? html`<p>No events yet.</p>`
          : html`<ol class="events">
              ${events.map((e) => {
                const d = describeEvent(e.kind, e.event);
                const link = e.kind === 'concern' && me.role !== 'viewer';
                return html`<li key=${e.seq} class=${d.serious ? 'serious' : ''}>
                  <span class="title">${link ? html`<a href=${`#/concerns/${e.id}`}>${d.title}</a>` : d.title}</span>
                  ${d.detail ? html`<span class="detail">${d.detail}</span>` : ''}
                  <span class="meta"><${Time} ms=${e.received_ms} /></span>
                </li>`;
              })}
            </ol>`}
      <${MoreButton} next=${next} busy=${busy} onMore=${more} label="Show older events" />
    </section>
  </main>`;
}
