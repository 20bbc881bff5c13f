// The window benchmark (`npm run bench -- window [--messages N] [--archive M] [--opens K]`):
// Chromium through the headless host on a seeded archive (a chat of N messages, 100,000 by
// default, in an archive of M, 1,000,000 by default). Beside each figure, a bare baseline in
// the same run: a static list of the same rows built once with plain DOM calls, no framework,
// no virtualization. Needs the build (`npm run build`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { startHostProcess } from '../test/support/host-process';
import { seedChatArchive } from '../test/support/chat-archive';
import { percentile, printTable } from './stats';

const CHROMIUM = process.env.HERON_CHROMIUM ?? '/usr/bin/chromium';
const SCROLL_MESSAGES = 10_000;
const WHEEL_PX = 600;

type Row = { metric: string; ours: string; bare: string; goal: string; met: string };

const fmt = (v: number, unit: string) => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ${unit}`;

function print(rows: Row[]): void {
  printTable<Row>({ metric: 'figure', ours: 'Heron', bare: 'bare static list', goal: 'goal', met: 'met' }, rows);
}

const arg = (args: string[], name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};

/** Debian's Chromium where it is installed (Playwright's own otherwise), headless. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    ...(fs.existsSync(CHROMIUM) ? { executablePath: CHROMIUM } : {}),
    args: ['--no-sandbox', '--disable-gpu', '--enable-precise-memory-info'],
  });
}

type PaintedWindow = { benchPainted(selector: string, prefix: string, since: number): Promise<number> };

/**
 * Installs, in the page, `benchPainted`: resolves once an element matching `selector` whose
 * text starts with `prefix` exists and the frame after it has been painted, with the time
 * since `since`.
 */
async function installPainted(page: Page): Promise<void> {
  // tsx keeps function names with a `__name` helper that the page does not have.
  await page.evaluate('globalThis.__name = (f) => f');
  await page.evaluate(() => {
    (window as unknown as PaintedWindow).benchPainted = (selector, prefix, since) =>
      new Promise((resolve) => {
        const found = () => Array.from(document.querySelectorAll(selector)).some((el) => el.textContent?.startsWith(prefix));
        const done = () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - since)));
        if (found()) return done();
        const observer = new MutationObserver(() => {
          if (!found()) return;
          observer.disconnect();
          done();
        });
        observer.observe(document.body, { childList: true, subtree: true, characterData: true });
      });
  });
}

/** Frame intervals and long tasks in the page while `work` runs. */
async function frames(page: Page, work: () => Promise<void>): Promise<{ frames: number[]; longTasks: number[] }> {
  await page.evaluate(() => {
    const w = window as unknown as { benchFrames: number[]; benchLong: number[]; benchRun: boolean };
    w.benchFrames = [];
    w.benchLong = [];
    w.benchRun = true;
    let last = performance.now();
    const tick = (t: number) => {
      w.benchFrames.push(t - last);
      last = t;
      if (w.benchRun) requestAnimationFrame(tick);
    };
    requestAnimationFrame((t) => {
      last = t;
      requestAnimationFrame(tick);
    });
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.benchLong.push(e.duration))).observe({ type: 'longtask' });
  });
  await work();
  return page.evaluate(() => {
    const w = window as unknown as { benchFrames: number[]; benchLong: number[]; benchRun: boolean };
    w.benchRun = false;
    return { frames: w.benchFrames, longTasks: w.benchLong };
  });
}

async function heapMb(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize / 1024 / 1024;
}

/** The bare baseline: the same rows as plain divs in a fixed scroller over the page. */
async function buildBare(page: Page, conversationId: number, count: number): Promise<number> {
  return page.evaluate(
    async ({ conversationId, count }) => {
      const start = performance.now();
      const heron = (window as unknown as { heron: { invoke(name: string, payload: unknown): Promise<{ messages: Array<{ id: number; body: string; ts: number; direction: string }>; hasMoreBefore: boolean }> } }).heron;
      const rows: Array<{ id: number; body: string; ts: number; direction: string }> = [];
      let before: { ts: number; id: number } | undefined;
      while (rows.length < count) {
        const reply = await heron.invoke('messages.page', { conversationId, limit: Math.min(200, count - rows.length), ...(before ? { before } : {}) });
        const page = reply.messages;
        rows.unshift(...page);
        if (!reply.hasMoreBefore || page.length === 0) break;
        before = { ts: page[0]!.ts, id: page[0]!.id };
      }
      const box = document.createElement('div');
      box.id = 'bare';
      box.style.cssText = 'position:fixed;inset:0;z-index:99;overflow-y:auto;background:#fff;font:14.5px/1.4 system-ui;padding:0 20px';
      const list = document.createElement('div');
      for (const m of rows) {
        const row = document.createElement('div');
        row.style.cssText = `padding:8px 11px;margin:4px 0;border-radius:16px;max-width:60%;white-space:pre-wrap;overflow:clip;${m.direction === 'out' ? 'margin-left:auto;background:#2463eb;color:#fff' : 'background:#eef0f3'}`;
        row.textContent = m.body.length > 1500 ? m.body.slice(0, 1500) : m.body;
        row.dataset.bare = '';
        list.append(row);
      }
      box.append(list);
      document.body.append(box);
      box.scrollTop = box.scrollHeight;
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
      return performance.now() - start;
    },
    { conversationId, count },
  );
}

export async function run(args: string[]): Promise<void> {
  const chatSize = arg(args, '--messages', 100_000);
  const archiveSize = Math.max(chatSize, arg(args, '--archive', 1_000_000));
  const opens = arg(args, '--opens', 20);
  const started = performance.now();
  const log = (text: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-bench-window-'));
  log(`seeding a chat of ${chatSize.toLocaleString('en')} in an archive of ${archiveSize.toLocaleString('en')} messages in ${dir}`);
  const seeded = seedChatArchive(dir, { messages: chatSize, otherMessages: archiveSize - chatSize });
  const host = await startHostProcess({ dataDir: dir, keychainService: 'heron-bench-window' });
  const browser = await launchBrowser();
  const rows: Row[] = [];
  const latest = `${chatSize}: `;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(host.url);
    await installPainted(page);
    const friend = page.getByTestId('conversation').filter({ hasText: 'Friend' });
    const other = page.getByTestId('conversation').filter({ hasText: 'Neighbour' });
    await friend.waitFor();

    // ── open the chat until its latest message is painted ──
    const openTimes: number[] = [];
    for (let i = 0; i < opens + 2; i++) {
      await other.click();
      await page.getByTestId('chat-view').filter({ hasText: 'Yes, come over' }).waitFor();
      const handle = await friend.elementHandle();
      const ms = await page.evaluate(
        ({ el, prefix }) => {
          const since = performance.now();
          (el as HTMLElement).click();
          return (window as unknown as PaintedWindow).benchPainted('[data-testid="message-body"]', prefix, since);
        },
        { el: handle, prefix: latest },
      );
      if (i >= 2) openTimes.push(ms); // the first two warm the code up
    }
    log(`opened the chat ${opens} times`);

    // ── wheel up through 10,000 messages ──
    const list = page.getByTestId('message-list');
    await list.hover();
    const oldestShown = () =>
      page.evaluate(() =>
        Math.min(...Array.from(document.querySelectorAll('[data-testid="message-body"]')).map((el) => Number(/^(\d+): /.exec(el.textContent ?? '')?.[1] ?? Infinity))),
      );
    const target = chatSize - SCROLL_MESSAGES;
    let wheels = 0;
    const scrollStart = performance.now();
    const ours = await frames(page, async () => {
      while ((await oldestShown()) > target && wheels < 20_000) {
        for (let k = 0; k < 10; k++) await page.mouse.wheel(0, -WHEEL_PX);
        wheels += 10;
      }
    });
    const scrollSeconds = (performance.now() - scrollStart) / 1000;
    log(`scrolled ${SCROLL_MESSAGES.toLocaleString('en')} messages in ${wheels} wheel steps, ${scrollSeconds.toFixed(1)} s`);
    const ourHeap = await heapMb(page);
    const domRows = await page.evaluate(() => document.querySelectorAll('[data-testid="message-row"]').length);

    // ── a new message arriving into the open chat ──
    await page.getByTestId('jump-to-latest').click();
    await page.evaluate((prefix) => (window as unknown as PaintedWindow).benchPainted('[data-testid="message-body"]', prefix, performance.now()), latest);
    const arrivals: number[] = [];
    for (let i = 0; i < 12; i++) {
      const body = `arrival ${i} ${Date.now()}`;
      const ms = await page.evaluate(
        ({ conversationId, text }) => {
          const since = performance.now();
          const heron = (window as unknown as { heron: { invoke(name: string, payload: unknown): Promise<unknown> } }).heron;
          void heron.invoke('messages.send', { conversationId, body: text });
          return (window as unknown as PaintedWindow).benchPainted('[data-testid="message-body"]', text, since);
        },
        { conversationId: seeded.conversationId, text: body },
      );
      if (i >= 2) arrivals.push(ms);
    }
    await page.close();

    // ── the bare baseline: the same rows, built once, no framework ──
    const bare = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await bare.goto(host.url);
    await installPainted(bare);
    await bare.getByTestId('conversation').first().waitFor();
    const bareOpen: number[] = [];
    for (let i = 0; i < opens + 2; i++) {
      const ms = await buildBare(bare, seeded.conversationId, 100);
      await bare.evaluate(() => document.getElementById('bare')?.remove());
      if (i >= 2) bareOpen.push(ms);
    }
    await buildBare(bare, seeded.conversationId, SCROLL_MESSAGES);
    await bare.locator('#bare').hover();
    const bareWheels = wheels;
    const bareFrames = await frames(bare, async () => {
      for (let k = 0; k < bareWheels; k++) await bare.mouse.wheel(0, -WHEEL_PX);
    });
    const bareHeap = await heapMb(bare);
    const bareArrivals: number[] = [];
    for (let i = 0; i < 12; i++) {
      const text = `bare arrival ${i}`;
      const ms = await bare.evaluate(
        ({ conversationId, body }) => {
          const since = performance.now();
          const heron = (window as unknown as { heron: { invoke(name: string, payload: unknown): Promise<{ body: string }> } }).heron;
          void heron.invoke('messages.send', { conversationId, body }).then((reply) => {
            const row = document.createElement('div');
            row.textContent = reply.body;
            row.dataset.bare = '';
            document.querySelector('#bare > div')!.append(row);
          });
          return (window as unknown as PaintedWindow).benchPainted('[data-bare]', body, since);
        },
        { conversationId: seeded.conversationId, body: text },
      );
      if (i >= 2) bareArrivals.push(ms);
    }

    const p95 = (v: number[]) => percentile(v, 95);
    const longest = (v: number[]) => (v.length ? Math.max(...v) : 0);
    rows.push({ metric: `open the chat, latest painted (${opens} opens), p95`, ours: fmt(p95(openTimes), 'ms'), bare: fmt(p95(bareOpen), 'ms'), goal: '≤ 100 ms', met: p95(openTimes) <= 100 ? 'yes' : 'NO' });
    rows.push({ metric: `frame time wheel-scrolling ${SCROLL_MESSAGES.toLocaleString('en')} messages, p95`, ours: fmt(p95(ours.frames), 'ms'), bare: fmt(p95(bareFrames.frames), 'ms'), goal: '≤ 16.7 ms', met: p95(ours.frames) <= 16.7 ? 'yes' : 'NO' });
    rows.push({ metric: 'long tasks during that scroll (count / longest)', ours: `${ours.longTasks.length} / ${fmt(longest(ours.longTasks), 'ms')}`, bare: `${bareFrames.longTasks.length} / ${fmt(longest(bareFrames.longTasks), 'ms')}`, goal: '—', met: '—' });
    rows.push({ metric: 'JS heap after that scroll (after GC)', ours: fmt(ourHeap, 'MB'), bare: fmt(bareHeap, 'MB'), goal: '—', met: '—' });
    rows.push({ metric: 'message rows in the DOM after that scroll', ours: String(domRows), bare: String(SCROLL_MESSAGES), goal: '≤ ~200', met: domRows <= 200 ? 'yes' : 'NO' });
    rows.push({ metric: 'new message into the open chat until painted, p95', ours: fmt(p95(arrivals), 'ms'), bare: fmt(p95(bareArrivals), 'ms'), goal: '—', met: '—' });
    console.log(`\nwindow: chat of ${chatSize.toLocaleString('en')} messages in an archive of ${archiveSize.toLocaleString('en')}, Chromium ${browser.version()}, 1280×800\n`);
    print(rows);
  } finally {
    await browser.close();
    await host.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
