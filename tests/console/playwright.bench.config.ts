// SPDX-License-Identifier: Apache-2.0
// The console's benchmark (docs/benchmarks.md "Staff console"), run by
// tests/bench/console/console_bench.sh: not a test, a measurement. Same browser as the tests.
import { defineConfig } from '@playwright/test';
import tests from './playwright.config';

export default defineConfig({
  ...tests,
  testDir: './bench',
  testMatch: '*.bench.ts',
  timeout: 600_000,
  use: { ...tests.use, baseURL: process.env.WARD_URL },
});
