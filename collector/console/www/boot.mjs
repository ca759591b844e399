// SPDX-License-Identifier: Apache-2.0
// @ts-check
// The first script: asks the collector who is signed in while the rest of the console's
// modules are still loading (index.html preloads them all), and for a DSL opening the inbox
// also its first page; then starts the app.
import { get } from './lib/api.mjs';
import { prefetchInbox } from './lib/inbox_data.mjs';

const session = get('/v1/staff/session');
session
  .then(({ data }) => {
    if (data.role === 'dsl' && /^(#\/?(inbox)?)?$/.test(location.hash)) {
      prefetchInbox();
    }
  })
  // Not signed in: the app shows the sign-in page.
  .catch(() => {});
import('./app.mjs').then((app) => app.start(session));
