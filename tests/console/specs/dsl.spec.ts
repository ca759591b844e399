// SPDX-License-Identifier: Apache-2.0
// The DSL's flow end to end: a learner's concern, sent through the real agent, appears in the
// open inbox without a reload; the DSL reads it, looks at the screenshot on request, moves it
// on and keeps the incident log; the audit log shows the read.
import { checkAccessibility, DATE, expect, NAMES, screenshot, sendConcern, signIn, test } from './helpers';

test('a concern from a learner reaches the open inbox and is triaged there', async ({ page }) => {
  const text = `Someone keeps messaging me at night and says they know where I live (${Date.now()}).`;
  await signIn(page, 'dsl');
  await expect(page.getByRole('heading', { name: 'Inbox', level: 1 })).toBeVisible();
  const all = page.getByRole('list', { name: 'Concerns' });
  await expect(all.locator('li.concern').first()).toBeVisible();
  await checkAccessibility(page, 'the inbox');

  // The page must not reload: a mark on the window survives only if it does not.
  await page.evaluate(() => ((window as unknown as { wardMark: number }).wardMark = 1));
  sendConcern(text, { inDanger: true, screenshot: true });
  const pinned = page.locator('section.pinned li.concern', { hasText: text.slice(0, 40) });
  await expect(pinned).toBeVisible({ timeout: 30_000 });
  await expect(pinned.getByText('In danger now')).toBeVisible();
  await expect(all.locator('li.concern').first()).toContainText(text.slice(0, 40));
  expect(await page.evaluate(() => (window as unknown as { wardMark?: number }).wardMark)).toBe(1);
  await expect(page).toHaveTitle(/^\(\d+\) Inbox · Ward staff console$/);
  const unreadBefore = Number((await page.title()).match(/^\((\d+)\)/)?.[1]);
  await expect(page.getByRole('status').filter({ hasText: 'A new concern has arrived.' })).toBeAttached();
  // The list shows the time as "Mon 7 Dec 14:05".
  expect((await pinned.locator('time').first().textContent())?.trim()).toMatch(DATE);
  await checkAccessibility(page, 'the inbox with an urgent concern');
  await screenshot(page, 'inbox');

  // Open it with the keyboard.
  await pinned.getByRole('link').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: /^Concern [2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/ })).toBeVisible();
  await expect(page.locator('blockquote.words')).toHaveText(text);
  const facts = page.locator('dl.facts');
  await expect(facts).toContainText('Bullying or harassment');
  const learner = process.env.WARD_AS_LEARNER ? 'nobody' : (process.env.USER ?? '');
  if (learner) {
    await expect(facts).toContainText(learner);
  }
  expect((await facts.locator('time').first().textContent())?.trim()).toMatch(DATE);
  await expect(page.getByText('The learner said they are in danger now.')).toBeVisible();
  // The screenshot only on request.
  await expect(page.locator('img')).toHaveCount(0);
  await page.getByRole('button', { name: 'Show the screenshot the learner attached' }).click();
  await expect(page.getByRole('img', { name: 'The screenshot the learner attached' })).toBeVisible();
  await checkAccessibility(page, 'a concern');
  await page.getByRole('button', { name: 'Hide screenshot' }).click();
  await expect(page.locator('img')).toHaveCount(0);

  // Status, a note, parent contacted, a referral: each lands in the incident log with who.
  await page.getByLabel('Status').selectOption('in-progress');
  await page.getByRole('button', { name: 'Save status' }).click();
  const log = page.locator('ol.log');
  await expect(log).toContainText('status set to in-progress');
  await page.getByLabel('Add a note').fill('Spoke to the learner with their tutor; they are safe in college today.');
  await page.getByRole('button', { name: 'Add note' }).click();
  await expect(log).toContainText('they are safe in college today');
  await page.getByLabel(/Parent or guardian contacted/).fill('Mum, by phone');
  await page.getByRole('button', { name: 'Record parent or guardian contacted' }).click();
  await expect(log).toContainText('Parent or guardian contacted: Mum, by phone');
  await page.getByLabel(/Referred to an external agency/).fill("Children's social care");
  await page.getByRole('button', { name: 'Record referral' }).click();
  await expect(log).toContainText("Referred to an external agency: Children's social care");
  await expect(log.locator('li')).toHaveCount(5);
  for (const entry of await log.locator('li').all()) {
    await expect(entry).toContainText(NAMES.dsl);
    expect((await entry.locator('time').textContent())?.trim()).toMatch(DATE);
  }
  await expect(facts.locator('.badge')).toHaveText('Referred');
  await checkAccessibility(page, 'a concern with its incident log');
  await screenshot(page, 'concern', true);

  // It is all on the server: a reload shows the same.
  await page.reload();
  await expect(page.locator('dl.facts .badge')).toHaveText('Referred');
  await expect(page.locator('ol.log li')).toHaveCount(5);
  const id = page.url().split('/').pop() ?? '';

  // The audit log shows the read, by whom.
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
  const read = page.locator('tbody tr', { has: page.locator('td[data-action="concern.read"]') })
    .filter({ has: page.locator(`a[href="#/concerns/${id}"]`) });
  await expect(read.first()).toContainText(NAMES.dsl);
  await expect(read.first()).toContainText('Opened it');
  await checkAccessibility(page, 'the audit log');
  await screenshot(page, 'audit');

  // Opened: one fewer unread in the title.
  await page.getByRole('link', { name: /^Inbox/ }).click();
  await expect(page.getByRole('heading', { name: 'Inbox', level: 1 })).toBeVisible();
  await expect
    .poll(async () => Number((await page.title()).match(/^\((\d+)\)/)?.[1] ?? 0))
    .toBe(unreadBefore - 1);
});

test('the inbox filters by status, group and date', async ({ page }) => {
  await signIn(page, 'dsl');
  const all = page.getByRole('list', { name: 'Concerns' });
  await expect(all.locator('li.concern').first()).toBeVisible();
  await page.getByLabel('Status').selectOption('closed');
  const badges = all.locator('li.concern > .badge');
  await expect(badges.first()).toHaveText('Closed');
  await expect(badges.filter({ hasNotText: 'Closed' })).toHaveCount(0);
  await page.getByLabel('Status').selectOption('');
  await page.getByLabel('Group').selectOption('learners-under-18');
  await expect(all.locator('li.concern').first()).toBeVisible();
  // Nothing was received in the future.
  const tomorrow = new Date(Date.now() + 36 * 3600 * 1000).toISOString().slice(0, 10);
  await page.getByLabel('From').fill(tomorrow);
  await expect(page.getByText('No concerns match.')).toBeVisible();
  await checkAccessibility(page, 'the filtered inbox');
});

test('the inbox works on a phone (390 px wide)', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, 'dsl');
  await expect(page.getByRole('list', { name: 'Concerns' }).locator('li.concern').first()).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  // index.html preloads every module: none is found only by an import (a waterfall).
  const late = await page.evaluate(() => {
    const preloaded = new Set(
      [...document.querySelectorAll<HTMLLinkElement>('link[rel="modulepreload"]')].map((l) => l.href),
    );
    return performance
      .getEntriesByType('resource')
      .map((r) => r.name)
      .filter((name) => name.endsWith('.mjs') && !preloaded.has(name));
  });
  expect(late).toEqual([]);
  await checkAccessibility(page, 'the inbox at 390 px');
  await screenshot(page, 'inbox-phone');
});
