// The message list with a long history: a chat of 100,000 archived messages opens at the
// latest, scrolling up pages older ones in while the DOM keeps only the rows in view, hostile
// bodies stay inside their bubbles, and a 10,000-line message is collapsed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { testKeychainService } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { COMBINING_BODY, seedChatArchive, type SeededChat } from '../support/chat-archive';

const TOTAL = 100_000;
/** About the rows in view plus the margin; the whole history would be 100,000. */
const MAX_ROWS = 200;

let host: HostProcess | undefined;
let seeded: SeededChat;

test.beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-long-chat-'));
  seeded = seedChatArchive(dataDir, { messages: TOTAL });
  host = await startHostProcess({ dataDir, keychainService: testKeychainService });
});

test.afterAll(async () => {
  await host?.stop();
});

const rows = (page: Page) => page.getByTestId('message-row');

/** The numbers ("12345: …") of the plain messages in the DOM. */
async function renderedNumbers(page: Page): Promise<number[]> {
  const bodies = await page.getByTestId('message-body').allTextContents();
  return bodies.map((b) => /^(\d+): /.exec(b)?.[1]).filter((n) => n !== undefined).map(Number);
}

test('a chat of 100,000 messages opens at the latest and pages older ones in, the DOM staying small', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(host!.url);
  await page.getByTestId('conversation').filter({ hasText: 'Friend' }).click();
  const list = page.getByTestId('message-list');

  // At the latest: the last message shows and the view is at the bottom.
  await expect(list.getByTestId('message-body').filter({ hasText: new RegExp(`^${TOTAL}: `) })).toBeInViewport();
  expect(await rows(page).count()).toBeLessThanOrEqual(MAX_ROWS);
  await expect(page.getByTestId('jump-to-latest')).toHaveCount(0);
  // A message's full date is its time's tooltip, once pointed at.
  const time = list.getByTestId('message-row').last().locator('time');
  await time.hover();
  const year = (await time.getAttribute('datetime'))!.slice(0, 4);
  await expect(time).toHaveAttribute('title', new RegExp(year));
  await page.screenshot({ path: testInfo.outputPath('long-chat-light.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: testInfo.outputPath('long-chat-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });

  // Wheel up through thousands of messages: older pages come in, the DOM never grows.
  await list.hover();
  let oldest = Math.min(...(await renderedNumbers(page)));
  const startedAt = oldest;
  let most = 0;
  for (let step = 0; step < 40; step++) {
    await page.mouse.wheel(0, -5000);
    await page.waitForTimeout(100);
    most = Math.max(most, await rows(page).count());
  }
  oldest = Math.min(...(await renderedNumbers(page)));
  expect(most).toBeLessThanOrEqual(MAX_ROWS);
  expect(oldest).toBeLessThan(startedAt - 2_000);
  const loadedRows = await page.evaluate(() => document.querySelectorAll('[data-testid="message-row"]').length);
  expect(loadedRows).toBeLessThanOrEqual(MAX_ROWS);
  // The day being read is named in the band above the rows, which covers no message.
  const band = await page.getByTestId('sticky-day').boundingBox();
  const listBox = await list.boundingBox();
  expect(band!.y + band!.height).toBeLessThanOrEqual(listBox!.y + 0.5);
  await expect(page.getByTestId('sticky-day')).not.toBeEmpty();
  await page.screenshot({ path: testInfo.outputPath('long-chat-scrolled.png') });

  // Back to the latest in one click.
  await page.getByTestId('jump-to-latest').click();
  await expect(list.getByTestId('message-body').filter({ hasText: new RegExp(`^${TOTAL}: `) })).toBeInViewport();
  await expect(page.getByTestId('jump-to-latest')).toHaveCount(0);
});

test('hostile and long bodies stay in their bubbles; long ones are collapsed', async ({ page }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(host!.url);
  await page.getByTestId('conversation').filter({ hasText: 'Friend' }).click();
  const list = page.getByTestId('message-list');

  // 500 combining marks: nothing they paint reaches the message above.
  const markRow = rows(page).filter({ hasText: COMBINING_BODY.slice(0, 7) });
  const marks = markRow.getByTestId('message');
  await marks.scrollIntoViewIfNeeded();
  const above = markRow.locator('xpath=preceding-sibling::*[1]');
  const bubbleBox = (await marks.locator('.bubble').boundingBox())!;
  const rowBox = (await markRow.boundingBox())!;
  expect(bubbleBox.y).toBeGreaterThanOrEqual(rowBox.y);
  expect(bubbleBox.y + bubbleBox.height).toBeLessThanOrEqual(rowBox.y + rowBox.height + 0.5);
  const withMarks = await above.screenshot();
  await marks.getByTestId('message-body').evaluate((el) => ((el as HTMLElement).style.visibility = 'hidden'));
  const withoutMarks = await above.screenshot();
  expect(withMarks.equals(withoutMarks)).toBe(true);
  await marks.getByTestId('message-body').evaluate((el) => ((el as HTMLElement).style.visibility = ''));
  await markRow.screenshot({ path: testInfo.outputPath('combining-marks.png') });

  // The 10,000-line message is a short preview with "Show more"; opening it shows the rest.
  const long = list.getByTestId('message').filter({ hasText: 'line 1 of a very long message' });
  await long.scrollIntoViewIfNeeded();
  const more = long.getByTestId('show-more');
  await expect(more).toHaveText('Show more');
  expect((await long.boundingBox())!.height).toBeLessThan(500);
  await expect(long).not.toContainText('line 16 of');
  await long.screenshot({ path: testInfo.outputPath('long-message-collapsed.png') });
  await more.click();
  await expect(long).toContainText('line 10000 of a very long message');
  // Opened, it scrolls inside its bubble instead of making a 200,000 px row.
  expect((await long.boundingBox())!.height).toBeLessThan(800);
  expect(await rows(page).count()).toBeLessThanOrEqual(MAX_ROWS);
  await long.getByTestId('show-more').click();
  await expect(long).not.toContainText('line 16 of');

  // Styling and /me, as the latest messages show them, in both themes.
  await list.focus();
  await page.keyboard.press('End');
  const styled = list.getByTestId('message').filter({ hasText: 'Styling:' });
  await styled.scrollIntoViewIfNeeded();
  await expect(styled.locator('strong')).toHaveText('*strong*');
  await expect(styled.locator('em')).toHaveText('_emphasis_');
  await expect(styled.locator('s')).toHaveText('~strike~');
  await expect(styled.locator('code')).toHaveText('`code`');
  await expect(styled.locator('blockquote')).toHaveText('a quote');
  const link = styled.getByTestId('message-link');
  await expect(link).toHaveAttribute('href', 'https://heron.example/docs');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(list.getByTestId('message-body').filter({ hasText: 'waves from the archive' })).toHaveText(/^(You|Friend) waves from the archive$/);
  await page.screenshot({ path: testInfo.outputPath('styled-light.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: testInfo.outputPath('styled-dark.png') });
});

test('the keyboard scrolls the feed and moves between messages', async ({ page }) => {
  await page.setViewportSize({ width: 800, height: 600 });
  await page.goto(host!.url);
  await page.getByTestId('conversation').filter({ hasText: 'Friend' }).click();
  const list = page.getByTestId('message-list');
  await expect(list).toHaveAttribute('role', 'feed');
  await expect(list.getByTestId('message-body').filter({ hasText: new RegExp(`^${TOTAL}: `) })).toBeInViewport();
  await list.focus();
  const before = await list.evaluate((el) => el.scrollTop);
  await page.keyboard.press('PageUp');
  await expect.poll(() => list.evaluate((el) => el.scrollTop)).toBeLessThan(before);
  await page.keyboard.press('End');
  await expect(list.getByTestId('message-body').filter({ hasText: new RegExp(`^${TOTAL}: `) })).toBeInViewport();
  // A message takes focus; Up moves to the one before it.
  const last = rows(page).last();
  await last.focus();
  await page.keyboard.press('ArrowUp');
  const focused = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.row);
  expect(Number(focused)).toBeLessThan(Number(await last.getAttribute('data-row')));
});
