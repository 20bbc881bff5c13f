// The window's part of `npm run bench -- rooms join`: Chromium through the headless host (its own
// process, as a user runs it) joins the room from the join dialog and opens the room's details,
// as a user does once in the room. Measured from the click on Join until the occupant list says
// it holds everyone and has painted, and the page has had no long task for QUIET_MS; the longest
// long task in the page meanwhile, and the host's longest event-loop stall (the host stands in
// for Electron's main process; asked through its control endpoint).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from '@playwright/test';
import { startHostProcess } from '../test/support/host-process';
import { accountFor, startCore, testKeychainService } from '../test/support/cores';
import type { TestServer } from '../test/support/prosody';
import type { LoopStalls } from '../main/host/loop-stalls';

const QUIET_MS = 500;

type JoinWindow = { benchSince: number; benchShown?: number; benchLong: Array<{ start: number; end: number }> };
type Listed = { shownMs: number; listedMs: number; idleMs: number; longestTaskMs: number; longTasks: number };

/** One window join with a fresh data folder (its first join of the room); then the host quits. */
export async function windowRound(server: TestServer, browser: Browser, user: string, room: string, expected: number, screenshot?: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-bench-rooms-window-'));
  const setup = await startCore({ server, dataDir: dir });
  const account = await setup.call('accounts.add', accountFor(server, user, 'pw'));
  await setup.waitForState(account.id, (a) => a.connection.state === 'online', 60_000);
  await setup.core.close();
  const host = await startHostProcess({ dataDir: dir, caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(host.url);
    await page.locator('[data-testid=account-state][data-state=online]').waitFor({ timeout: 60_000 });
    await page.getByTestId('join-room-button').click();
    const dialog = page.getByTestId('join-room-dialog');
    await dialog.getByTestId('join-room-address').fill(room);
    await dialog.getByTestId('join-room-nick').fill('window');
    // tsx keeps function names with a `__name` helper that the page does not have.
    await page.evaluate('globalThis.__name = (f) => f');
    await page.evaluate((room) => {
      const w = window as unknown as JoinWindow;
      w.benchLong = [];
      new PerformanceObserver((list) => list.getEntries().forEach((e) => w.benchLong.push({ start: e.startTime, end: e.startTime + e.duration }))).observe({ type: 'longtask' });
      // When the room's chat view is put in the page: the core has joined.
      const shown = new MutationObserver(() => {
        if (!document.querySelector(`[data-testid=chat-view][data-peer="${room}"]`)) return;
        shown.disconnect();
        w.benchShown = performance.now();
      });
      shown.observe(document.body, { childList: true, subtree: true });
    }, room);
    await host.control({ eventLoop: true }); // starts the host's measure afresh
    await dialog.getByTestId('join-room-submit').evaluate((button) => {
      (window as unknown as JoinWindow).benchSince = performance.now();
      (button as HTMLElement).click();
    });
    await page.getByTestId('details-toggle').click({ timeout: 120_000 });
    const listed = await page.evaluate(
      ({ expected, quietMs }) =>
        new Promise<Listed>((resolve) => {
          const w = window as unknown as JoinWindow;
          const complete = () =>
            document.querySelector(`[data-testid=occupant-list][data-count="${expected}"]`) !== null && document.querySelector('[data-testid=occupant]') !== null;
          const quiet = (listedAt: number) => {
            const during = w.benchLong.filter((t) => t.start >= w.benchSince);
            const idleAt = Math.max(listedAt, ...during.map((t) => t.end));
            if (performance.now() - idleAt < quietMs) return void setTimeout(() => quiet(listedAt), 50);
            resolve({
              shownMs: (w.benchShown ?? Number.NaN) - w.benchSince,
              listedMs: listedAt - w.benchSince,
              idleMs: idleAt - w.benchSince,
              longestTaskMs: Math.max(0, ...during.map((t) => t.end - t.start)),
              longTasks: during.length,
            });
          };
          const painted = () => requestAnimationFrame(() => setTimeout(() => quiet(performance.now())));
          if (complete()) return painted();
          const observer = new MutationObserver(() => {
            if (!complete()) return;
            observer.disconnect();
            painted();
          });
          observer.observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-count'] });
        }),
      { expected, quietMs: QUIET_MS },
    );
    const hostStalls = (await host.control({ eventLoop: true })) as LoopStalls;
    const domRows = await page.locator('[data-testid=occupant]').count();
    const people = await page.getByTestId('room-state').textContent();
    if (screenshot) await page.screenshot({ path: screenshot });
    return { ...listed, hostStallMs: hostStalls.maxMs, hostP99Ms: hostStalls.p99Ms, domRows, people: people?.trim() ?? '' };
  } finally {
    await page.close();
    await host.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
