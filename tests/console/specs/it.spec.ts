// SPDX-License-Identifier: Apache-2.0
// IT's flow: the fleet, a device's history, groups and their policies, pushing a signed
// bundle (and the collector's refusals); and that IT can see that a concern exists but never
// what it says, in the page or by calling the API with the session cookie.
import { readFileSync } from 'node:fs';
import { checkAccessibility, csrfToken, DATE, env, expect, NAMES, screenshot, sendConcern, signIn, test } from './helpers';

test('IT sees that a concern exists and never what it says', async ({ page }) => {
  const text = `My stepdad takes my phone and reads my messages every night (${Date.now()}).`;
  sendConcern(text);
  await signIn(page, 'it');
  await expect(page.getByRole('heading', { name: 'Devices', level: 1 })).toBeVisible();
  await page.getByRole('link', { name: 'Concerns' }).click();
  await expect(page.getByRole('heading', { name: 'Concerns', level: 1 })).toBeVisible();
  // It arrives (the agent uploads it) and the list refreshes by itself.
  const rows = page.locator('tbody tr');
  let id = '';
  await expect
    .poll(async () => {
      const answer = await page.request.get('/v1/staff/concerns?limit=5');
      const list = (await answer.json()) as Array<{ id: string; received_ms: number }>;
      id = list[0]?.id ?? '';
      return id !== '' && (await rows.first().getAttribute('data-id')) === id;
    }, { timeout: 30_000 })
    .toBe(true);
  expect(await page.content()).not.toContain(text.slice(0, 30));
  await checkAccessibility(page, "IT's concerns page");

  await rows.first().getByRole('link', { name: id }).click();
  await expect(page.getByText('Only the safeguarding team can read what a concern says.')).toBeVisible();
  await expect(page.locator('dl.facts')).toContainText('learners-under-18');
  expect(await page.content()).not.toContain(text.slice(0, 30));
  await checkAccessibility(page, "IT's view of a concern");

  // The API says no more to the same session than the page shows.
  for (const path of ['/v1/staff/concerns?limit=50', `/v1/staff/concerns/${id}`, '/v1/staff/events?limit=1000']) {
    const answer = await page.request.get(path);
    expect(answer.status(), path).toBe(200);
    const body = await answer.text();
    expect(body, path).not.toContain(text.slice(0, 30));
    expect(body, path).not.toContain('stepdad');
  }
  const concern = await (await page.request.get(`/v1/staff/concerns/${id}`)).json();
  expect(Object.keys(concern).sort()).toEqual(['device_id', 'group', 'id', 'received_ms', 'redacted', 'status']);
  for (const path of [`/v1/staff/concerns/${id}/log`, '/v1/staff/concerns/urgent', '/v1/staff/audit']) {
    expect((await page.request.get(path)).status(), path).toBe(403);
  }
  const csrf = await csrfToken(page);
  const change = await page.request.post(`/v1/staff/concerns/${id}/status`, {
    headers: { 'X-Ward-CSRF': csrf },
    data: { status: 'closed' },
  });
  expect(change.status()).toBe(403);
});

test('the fleet: filters, a device and its recent events', async ({ page }) => {
  await signIn(page, 'it');
  const rows = page.locator('table.devices tbody tr');
  await expect(rows.first()).toBeVisible();
  const total = await rows.count();
  expect(total).toBeGreaterThan(10);
  await checkAccessibility(page, 'the devices page');
  await screenshot(page, 'fleet');

  // Each filter reloads the list: wait for the filtered rows, not the ones still on screen.
  await page.getByLabel('Degraded').check();
  await expect.poll(() => rows.count()).toBeLessThan(total);
  await expect(rows.first()).toBeVisible();
  for (const row of await rows.all()) {
    await expect(row.locator('td[data-label="Problems"]')).toContainText('not working: usb');
  }
  await page.getByLabel('Degraded').uncheck();
  await expect.poll(() => rows.count()).toBe(total);
  await page.getByLabel('Not seen for 7 days').check();
  await expect.poll(() => rows.count()).toBeLessThan(total);
  await expect(rows.first()).toBeVisible();
  for (const row of await rows.all()) {
    await expect(row.locator('td[data-label="Last seen"]')).toContainText('days ago');
  }
  await page.getByLabel('Not seen for 7 days').uncheck();

  await page.getByRole('link', { name: 'lab-0007' }).click();
  await expect(page.getByRole('heading', { name: 'lab-0007', level: 1 })).toBeVisible();
  const events = page.locator('ol.events li');
  await expect(events.first()).toBeVisible();
  await expect(page.locator('ol.events')).toContainText('USB: SanDisk Cruzer Blade blocked');
  await expect(page.locator('ol.events')).toContainText('Program blocked');
  await expect(page.locator('ol.events')).toContainText('A locked setting was changed and put back');
  await expect(page.locator('ol.events')).toContainText('Tampering detected');
  await expect(page.locator('dl.facts')).toContainText('not working: usb (no USB host controller found)');
  expect((await events.first().locator('time').textContent())?.trim()).toMatch(DATE);
  await checkAccessibility(page, 'a device');
  await screenshot(page, 'device');
});

test('a group: its policy in plain words, history, progress, and pushing a signed bundle', async ({ page }) => {
  await signIn(page, 'it');
  await page.getByRole('link', { name: 'Groups and policies' }).click();
  await expect(page.getByRole('heading', { name: 'Groups and policies', level: 1 })).toBeVisible();
  await expect(page.locator('tbody tr').first()).toContainText('version 1');
  await checkAccessibility(page, 'the groups page');
  await page.getByRole('link', { name: 'learners-under-18' }).click();
  await expect(page.getByRole('heading', { name: 'learners-under-18', level: 1 })).toBeVisible();
  // The same words the learner reads in the tray (policy/summary).
  await expect(page.locator('ul.policy-words li').first()).toBeVisible();
  await expect(page.locator('ul.policy-words')).toContainText('USB');
  await expect(page.getByRole('progressbar')).toBeVisible();
  await expect(page.locator('.progress')).toContainText(/\d+ of \d+ devices run version 1/);
  await expect(page.locator('table tbody tr').first()).toContainText(NAMES.it);
  await checkAccessibility(page, 'a group');
  await screenshot(page, 'policy');

  const upload = async (file: string) => {
    await page.getByLabel('Signed policy bundle').setInputFiles(file);
    await page.getByRole('button', { name: 'Check and push' }).click();
  };
  // Signed with another key: the collector refuses it, in its own words.
  await upload(env('WARD_BUNDLE_FORGED'));
  await expect(page.getByRole('alert')).toContainText('Policy refused');
  await expect(page.getByRole('alert')).toContainText('signed with key');
  // Not newer than what is in force.
  await upload(env('WARD_BUNDLE_V1'));
  await expect(page.getByRole('alert')).toContainText('already has policy version 1; a push must be newer');
  await checkAccessibility(page, 'a refused push');
  // The real thing.
  await upload(env('WARD_BUNDLE_V2'));
  await expect(page.getByRole('status').filter({ hasText: 'Version 2 is now in force' })).toBeVisible();
  await expect(page.locator('dl.facts')).toContainText('version 2');
  await expect(page.locator('table tbody tr').first()).toContainText('2');
  // The browser never held a key: what it sent is the bundle as signed.
  expect(readFileSync(env('WARD_BUNDLE_V2')).length).toBeGreaterThan(0);
});
