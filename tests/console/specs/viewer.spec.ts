// SPDX-License-Identifier: Apache-2.0
// A viewer sees the fleet pages and nothing else: no concerns, no push.
import { readFileSync } from 'node:fs';
import { checkAccessibility, csrfToken, env, expect, signIn, test } from './helpers';

test('a viewer sees the fleet but cannot push a policy or see concerns', async ({ page }) => {
  await signIn(page, 'viewer');
  await expect(page.getByRole('heading', { name: 'Devices', level: 1 })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link')).toHaveText(['Devices', 'Groups']);
  await page.getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('link', { name: 'learners-under-18' }).click();
  await expect(page.getByRole('heading', { name: 'learners-under-18', level: 1 })).toBeVisible();
  await expect(page.getByLabel('Signed policy bundle')).toHaveCount(0);
  await checkAccessibility(page, "a viewer's group page");
  // The page hides the form; the collector refuses the push anyway.
  const push = await page.request.post('/v1/staff/policy?group=learners-under-18', {
    headers: { 'X-Ward-CSRF': await csrfToken(page), 'Content-Type': 'application/x-protobuf' },
    data: readFileSync(env('WARD_BUNDLE_V2')),
  });
  expect(push.status()).toBe(403);
  expect((await push.json()).message).toContain('your role (viewer) cannot use POST /v1/staff/policy');
  expect((await page.request.get('/v1/staff/concerns')).status()).toBe(403);
  await page.goto('/console/#/inbox');
  await expect(page.getByRole('heading', { name: 'Not found', level: 1 })).toBeVisible();
  await checkAccessibility(page, 'the page a viewer may not see');
});
