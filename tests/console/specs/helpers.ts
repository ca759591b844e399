// SPDX-License-Identifier: Apache-2.0
// What the console's browser tests share: the collector's addresses and tokens (run.sh sets
// them), signing in through the page, axe, screenshots, and a learner's concern sent through
// the real agent's socket.
import { execFileSync } from 'node:child_process';
import { expect, test as base, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

export type Role = 'dsl' | 'it' | 'viewer';

/**
 * Playwright's `test`, with every page watched: a script error, or anything the
 * Content-Security-Policy refused, fails the test.
 */
export const test = base.extend<{ watchPage: void }>({
  watchPage: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) {
          problems.push(`refused by the CSP: ${m.text()}`);
        }
      });
      await use();
      expect(problems).toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** @param name an environment variable run.sh sets */
export function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) {
    throw new Error(`${name} is not set: run the tests with tests/console/run.sh`);
  }
  return value;
}

export const TOKENS: Record<Role, string> = {
  dsl: env('WARD_TOKEN_DSL'),
  it: env('WARD_TOKEN_IT'),
  viewer: env('WARD_TOKEN_VIEWER'),
};

export const NAMES: Record<Role, string> = { dsl: 'Ms Patel', it: 'Sam Okafor', viewer: 'Governor' };

/** "Mon 7 Dec 14:05" (the year added when not this year). */
export const DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)( \d{4})? \d{2}:\d{2}$/;

/** Signs in through the sign-in page, as a person would (keyboard only). */
export async function signIn(page: Page, role: Role, base?: string, token?: string): Promise<void> {
  await page.goto(`${base ?? ''}/console/`);
  await expect(page.getByRole('heading', { name: 'Sign in to Ward' })).toBeVisible();
  await page.getByLabel('Staff token').fill(token ?? TOKENS[role]);
  await page.getByLabel('Staff token').press('Enter');
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** axe on the page as it is now: no violation of WCAG 2.0–2.2 A and AA. */
export async function checkAccessibility(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(found, `axe on ${what}`).toEqual([]);
}

/** Saves the page as console-<name>.png when run.sh was given a screenshot directory. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  const dir = process.env.WARD_SHOTS;
  if (dir) {
    await page.screenshot({ path: `${dir}/console-${name}.png`, fullPage });
  }
}

/**
 * A learner reports a concern through the agent's socket (`ward-agent concern`, the tray's IPC
 * client library), as the learner's own user. Returns once the agent has stored it; the agent
 * uploads it to the collector by itself.
 */
export function sendConcern(text: string, options: { inDanger?: boolean; screenshot?: boolean } = {}): void {
  const args = ['concern', '--config', env('WARD_AGENT_CONF'), '--category', 'bullying', '--text', text];
  if (options.inDanger) {
    args.push('--in-danger');
  }
  if (options.screenshot) {
    args.push('--screenshot', env('WARD_SHOT_PNG'));
  }
  const prefix = (process.env.WARD_AS_LEARNER ?? '').split(' ').filter((p) => p !== '');
  const argv = [...prefix, env('WARD_AGENT_BIN'), ...args];
  execFileSync(argv[0], argv.slice(1), { stdio: 'pipe', timeout: 30_000 });
}

/** The session's CSRF token, as the page holds it (asked of the collector with the cookie). */
export async function csrfToken(page: Page): Promise<string> {
  const answer = await page.request.get('/v1/staff/session');
  expect(answer.status()).toBe(200);
  return (await answer.json()).csrf_token as string;
}
