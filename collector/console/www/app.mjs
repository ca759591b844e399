// SPDX-License-Identifier: Apache-2.0
// @ts-check
// The Ward staff console: sign-in, the page frame for each role, hash routes, and the live
// inbox (a long-poll the collector answers when a concern arrives; no polling timer).
import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { html } from './lib/html.mjs';
import { ApiError, get, onSessionEnded, post, query, setCsrfToken } from './lib/api.mjs';
import { Loading } from './lib/components.mjs';
import { SignIn } from './pages/sign_in.mjs';
import { Inbox } from './pages/inbox.mjs';
import { ConcernPage } from './pages/concern.mjs';
import { ConcernList } from './pages/concern_list.mjs';
import { AuditLog } from './pages/audit.mjs';
import { Devices } from './pages/devices.mjs';
import { DevicePage } from './pages/device.mjs';
import { Groups } from './pages/groups.mjs';
import { GroupPage } from './pages/group.mjs';

/** @typedef {import('./lib/api.mjs').Me} Me */
/** @typedef {import('./lib/api.mjs').Summary} Summary */

/** @param {number} ms */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The route in the address bar's hash: ["concerns", "<id>"] for "#/concerns/<id>". */
function currentRoute() {
  return location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((part) => part !== '')
    .map((part) => decodeURIComponent(part));
}

function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

/**
 * Holds GET /v1/staff/concerns/wait open; each answer with a new version calls `onChange`.
 * After a failure it waits (longer each time) before asking again.
 * @param {boolean} active
 * @param {() => void} onChange
 */
function useConcernWatch(active, onChange) {
  useEffect(() => {
    if (!active) {
      return undefined;
    }
    const controller = new AbortController();
    let stopped = false;
    (async () => {
      /** @type {number | undefined} */
      let version;
      let failures = 0;
      while (!stopped) {
        try {
          const { data } = await get(`/v1/staff/concerns/wait${query({ after: version })}`, {
            background: true,
            signal: controller.signal,
          });
          if (version !== undefined && data.version !== version) {
            onChange();
          }
          version = data.version;
          failures = 0;
        } catch (e) {
          if (stopped || (e instanceof ApiError && e.status === 401)) {
            return;
          }
          failures += 1;
          await sleep(Math.min(30000, 1000 * 2 ** failures));
        }
      }
    })();
    return () => {
      stopped = true;
      controller.abort();
    };
  }, [active]);
}

/** @type {Record<string, Array<{href: string, label: string}>>} */
const NAV = {
  dsl: [
    { href: '#/inbox', label: 'Inbox' },
    { href: '#/audit', label: 'Audit log' },
    { href: '#/devices', label: 'Devices' },
    { href: '#/groups', label: 'Groups' },
  ],
  it: [
    { href: '#/devices', label: 'Devices' },
    { href: '#/groups', label: 'Groups and policies' },
    { href: '#/concerns', label: 'Concerns' },
  ],
  viewer: [
    { href: '#/devices', label: 'Devices' },
    { href: '#/groups', label: 'Groups' },
  ],
};

/** @type {Record<string, string>} */
const TITLES = {
  inbox: 'Inbox',
  concerns: 'Concerns',
  audit: 'Audit log',
  devices: 'Devices',
  groups: 'Groups',
};

/** @param {Me} me */
function homeOf(me) {
  return me.role === 'dsl' ? 'inbox' : 'devices';
}

/**
 * @param {{me: Me, route: string[], tick: number, summary: Summary | null,
 *   refreshSummary: () => void}} props
 */
function Page({ me, route, tick, summary, refreshSummary }) {
  const [section, id] = route.length ? route : [homeOf(me)];
  const dsl = me.role === 'dsl';
  switch (section) {
    case 'inbox':
      if (dsl) {
        return html`<${Inbox} tick=${tick} summary=${summary} />`;
      }
      break;
    case 'concerns':
      if (id && me.role !== 'viewer') {
        return html`<${ConcernPage} id=${id} me=${me} onChanged=${refreshSummary} />`;
      }
      if (me.role === 'it') {
        return html`<${ConcernList} tick=${tick} />`;
      }
      if (dsl) {
        return html`<${Inbox} tick=${tick} summary=${summary} />`;
      }
      break;
    case 'audit':
      if (dsl) {
        return html`<${AuditLog} />`;
      }
      break;
    case 'devices':
      return id ? html`<${DevicePage} id=${id} me=${me} />` : html`<${Devices} />`;
    case 'groups':
      return id ? html`<${GroupPage} name=${id} me=${me} />` : html`<${Groups} />`;
    default:
      break;
  }
  return html`<main id="main"><h1>Not found</h1>
    <p>There is no such page for your role. <a href=${`#/${homeOf(me)}`}>Go to the start page</a>.</p></main>`;
}

/** @param {{session: Promise<{data: any}>}} props */
function App({ session }) {
  const [me, setMe] = useState(/** @type {Me | null | undefined} */ (undefined));
  const [notice, setNotice] = useState('');
  const [tick, setTick] = useState(0);
  const [summary, setSummary] = useState(/** @type {Summary | null} */ (null));
  const route = useRoute();

  useEffect(() => {
    onSessionEnded(() => {
      setCsrfToken('');
      setMe(null);
      setNotice('Your session has ended. Please sign in again.');
    });
    session
      .then(({ data }) => {
        setCsrfToken(data.csrf_token);
        setMe(data);
      })
      .catch(() => setMe(null));
  }, []);

  const refreshSummary = useCallback(() => {
    get('/v1/staff/concerns/summary', { background: true })
      .then(({ data }) => setSummary(data))
      .catch(() => {});
  }, []);

  const isDsl = me?.role === 'dsl';
  useEffect(() => {
    if (isDsl) {
      refreshSummary();
    }
  }, [isDsl, tick]);

  useConcernWatch(me?.role === 'dsl' || me?.role === 'it', () => setTick((t) => t + 1));

  const section = route[0] ?? (me ? homeOf(me) : '');
  useEffect(() => {
    const unread = isDsl && summary && summary.unread > 0 ? `(${summary.unread}) ` : '';
    const page = me ? (TITLES[section] ?? 'Ward') : 'Sign in';
    document.title = `${unread}${page} · Ward staff console`;
  }, [me, section, summary, isDsl]);

  if (me === undefined) {
    return html`<${Loading} what="the console" />`;
  }
  if (me === null) {
    return html`<${SignIn}
      notice=${notice}
      onSignedIn=${(/** @type {Me} */ who) => {
        setCsrfToken(who.csrf_token);
        setNotice('');
        setMe(who);
        location.hash = `#/${homeOf(who)}`;
      }}
    />`;
  }
  const signOut = async () => {
    try {
      await post('/v1/staff/session/end');
    } catch {
      // Signed out or not, the page forgets the session.
    }
    setCsrfToken('');
    setMe(null);
    setNotice('You have signed out.');
  };
  return html`
    <a class="skip" href="#main" onClick=${(/** @type {Event} */ e) => {
      e.preventDefault();
      document.getElementById('main')?.querySelector('h1')?.focus();
    }}>Skip to main content</a>
    <header class="top">
      <p class="brand">Ward <span>staff console</span></p>
      <nav aria-label="Main">
        <ul>
          ${NAV[me.role].map(
            (item) => html`<li>
              <a href=${item.href} aria-current=${item.href === `#/${section}` ? 'page' : undefined}
                >${item.label}${item.href === '#/inbox' && summary && summary.unread > 0
                  ? html` <span class="count">${summary.unread}<span class="visually-hidden"> unread</span></span>`
                  : ''}</a
              >
            </li>`,
          )}
        </ul>
      </nav>
      <p class="who">
        <span>${me.name} (${me.role === 'dsl' ? 'DSL' : me.role === 'it' ? 'IT' : 'viewer'})</span>
        <button type="button" class="link" onClick=${signOut}>Sign out</button>
      </p>
    </header>
    <${Page} me=${me} route=${route} tick=${tick} summary=${summary} refreshSummary=${refreshSummary} />
  `;
}

/**
 * Renders the console into #app.
 * @param {Promise<{data: any}>} session the answer of GET /v1/staff/session, asked by boot.mjs
 */
export function start(session) {
  const root = document.getElementById('app');
  if (root) {
    root.textContent = '';
    render(html`<${App} session=${session} />`, root);
  }
}
