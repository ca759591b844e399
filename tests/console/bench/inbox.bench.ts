// SPDX-License-Identifier: Apache-2.0
// The DSL's inbox over a big store (seeded by console_bench.sh): (1) navigation start to the
// list on screen, (2) a concern POSTed by a (simulated) laptop to the moment it shows in an
// open inbox. Prints the figures; docs/benchmarks.md keeps them.
import { spawn } from 'node:child_process';
import { test, type Page } from '@playwright/test';

function need(name: string): string {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run tests/bench/console/console_bench.sh`);
  }
  return v;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function report(what: string, values: number[]): void {
  const f = (n: number) => `${Math.round(n)} ms`;
  console.log(
    `BENCH ${what}: n=${values.length} p50=${f(percentile(values, 50))} p95=${f(percentile(values, 95))} ` +
      `min=${f(Math.min(...values))} max=${f(Math.max(...values))}`,
  );
}

async function signIn(page: Page): Promise<void> {
  await page.goto('/console/');
  await page.getByLabel('Staff token').fill(need('WARD_TOKEN_DSL'));
  await page.getByLabel('Staff token').press('Enter');
  await page.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
}

test('inbox: first render, and a new concern reaching an open inbox', async ({ page }) => {
  await signIn(page);
  const runs = Number(process.env.WARD_BENCH_RUNS ?? '15');
  const rendered: number[] = [];
  const listCalls: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    await page.goto('about:blank');
    await page.goto('/console/#/inbox');
    await page.waitForFunction(() => performance.getEntriesByName('ward:inbox-rendered').length > 0);
    const timing = await page.evaluate(() => {
      const mark = performance.getEntriesByName('ward:inbox-rendered')[0];
      const list = performance
        .getEntriesByType('resource')
        .find((r) => r.name.includes('/v1/staff/concerns?'));
      return { mark: mark.startTime, list: list ? list.duration : -1 };
    });
    rendered.push(timing.mark);
    listCalls.push(timing.list);
  }
  // Where the time of the last load went: each request's start and end since navigation start.
  const waterfall = await page.evaluate(() =>
    [
      ...performance.getEntriesByType('navigation'),
      ...performance.getEntriesByType('resource'),
    ].map((e) => `${new URL(e.name).pathname}${new URL(e.name).search ? '?' : ''} ${Math.round(e.startTime)}-${Math.round(e.startTime + e.duration)}`),
  );
  console.log(`BENCH waterfall of the last load (ms since navigation start): ${waterfall.join(', ')}`);
  console.log(`BENCH first inbox load (cold): ${Math.round(rendered[0])} ms`);
  report('navigation start -> inbox list rendered', rendered);
  report('GET /v1/staff/concerns (first page of 50) as the browser saw it', listCalls);

  // A laptop POSTs concerns; the open inbox notes when each appears.
  await page.evaluate(() => {
    const w = window as unknown as { wardSeen: Record<string, number> };
    w.wardSeen = {};
    const note = () => {
      for (const li of document.querySelectorAll<HTMLElement>('li.concern[data-reference]')) {
        const ref = li.dataset.reference ?? '';
        if (!(ref in w.wardSeen)) {
          w.wardSeen[ref] = Date.now();
        }
      }
    };
    note();
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true });
  });
  const count = Number(process.env.WARD_BENCH_CONCERNS ?? '30');
  const sent = new Map<string, number>();
  await new Promise<void>((resolve, reject) => {
    const poster = spawn(need('WARD_FIXTURE_BIN'), [
      'post-concerns', '--port', need('WARD_PORT'), '--ca', need('WARD_CA'),
      '--secret', need('WARD_SECRET'), '--count', String(count), '--interval-ms', '1500',
    ]);
    let buffer = '';
    poster.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const [ref, at] = buffer.slice(0, nl).split(' ');
        sent.set(ref, Number(at));
        buffer = buffer.slice(nl + 1);
      }
    });
    poster.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    poster.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`poster exited ${code}`))));
  });
  await page.waitForFunction(
    (refs) => refs.every((r) => r in (window as unknown as { wardSeen: Record<string, number> }).wardSeen),
    [...sent.keys()],
    { timeout: 60_000 },
  );
  const seen = await page.evaluate(() => (window as unknown as { wardSeen: Record<string, number> }).wardSeen);
  const latency = [...sent.entries()].map(([ref, at]) => seen[ref] - at);
  report('concern POST by a laptop -> visible in the open inbox', latency);
});
