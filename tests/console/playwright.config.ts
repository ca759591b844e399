// SPDX-License-Identifier: Apache-2.0
// Playwright for the staff console: Debian's Chromium (Playwright cannot download its own
// here), one worker (the tests share one collector and one agent), started by run.sh.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './specs',
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: process.env.WARD_CONSOLE_OUT ?? 'test-results',
  use: {
    baseURL: process.env.WARD_URL_A,
    // The site's own CA signed the collector's certificate; the browser is told to accept it.
    ignoreHTTPSErrors: true,
    locale: 'en-GB',
    timezoneId: 'Europe/London',
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: process.env.WARD_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--lang=en-GB'],
    },
    trace: 'off',
  },
});
