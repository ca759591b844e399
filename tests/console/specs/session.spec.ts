// SPDX-License-Identifier: Apache-2.0
// Sessions: the token is not kept, the cookie is Secure/HttpOnly/SameSite=Strict, a change
// without the CSRF token is refused, an unused session ends, signing out ends it for good.
import { request } from '@playwright/test';
import { checkAccessibility, csrfToken, env, expect, signIn, test, TOKENS } from './helpers';

test('the browser keeps a session cookie, never the token', async ({ page, context }) => {
  await page.goto('/console/');
  await expect(page.getByRole('heading', { name: 'Sign in to Ward' })).toBeVisible();
  await checkAccessibility(page, 'the sign-in page');
  await signIn(page, 'dsl');
  const cookies = await context.cookies();
  expect(cookies.map((c) => c.name)).toEqual(['__Host-ward_session']);
  const [cookie] = cookies;
  expect(cookie.httpOnly).toBe(true);
  expect(cookie.secure).toBe(true);
  expect(cookie.sameSite).toBe('Strict');
  expect(cookie.path).toBe('/');
  expect(cookie.value).not.toContain(TOKENS.dsl);
  const stored = await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
  expect(stored).toEqual([0, 0, '']);
  expect(await page.content()).not.toContain(TOKENS.dsl);
});

test('a change without the CSRF token is refused', async ({ page }) => {
  await signIn(page, 'dsl');
  const list = await (await page.request.get('/v1/staff/concerns?limit=1')).json();
  const id = list[0].id as string;
  const note = { text: 'checked in with the learner' };
  const bare = await page.request.post(`/v1/staff/concerns/${id}/notes`, { data: note });
  expect(bare.status()).toBe(403);
  expect((await bare.json()).message).toContain('CSRF');
  const forged = await page.request.post(`/v1/staff/concerns/${id}/notes`, {
    headers: { 'X-Ward-CSRF': '0'.repeat(64) },
    data: note,
  });
  expect(forged.status()).toBe(403);
  const right = await page.request.post(`/v1/staff/concerns/${id}/notes`, {
    headers: { 'X-Ward-CSRF': await csrfToken(page) },
    data: note,
  });
  expect(right.status()).toBe(200);
});

test('an unused session ends (collector B: 3 s), and the page says so', async ({ page }) => {
  const b = env('WARD_URL_B');
  await signIn(page, 'dsl', b, env('WARD_TOKEN_DSL_B'));
  await expect(page.getByRole('heading', { name: 'Inbox', level: 1 })).toBeVisible();
  // The open inbox's long-poll goes on meanwhile; it is not activity.
  await page.waitForTimeout(4500);
  await page.getByRole('link', { name: 'Devices' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Ward' })).toBeVisible();
  await expect(page.getByText('Your session has ended. Please sign in again.')).toBeVisible();
  await checkAccessibility(page, 'the sign-in page after the session ended');
  const again = await page.request.get(`${b}/v1/staff/session`);
  expect(again.status()).toBe(401);
});

test('signing out ends the session on the server', async ({ page, context }) => {
  await signIn(page, 'it');
  const [cookie] = await context.cookies();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByText('You have signed out.')).toBeVisible();
  expect(await context.cookies()).toEqual([]);
  // The old cookie, replayed, is refused: the session ended on the collector.
  const replay = await request.newContext({
    baseURL: env('WARD_URL_A'),
    ignoreHTTPSErrors: true,
    extraHTTPHeaders: { Cookie: `${cookie.name}=${cookie.value}` },
  });
  expect((await replay.get('/v1/staff/devices')).status()).toBe(401);
  await replay.dispose();
  await checkAccessibility(page, 'the sign-in page after signing out');
});
