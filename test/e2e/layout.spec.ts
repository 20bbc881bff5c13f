// The window's layout end to end: two accounts in the unified inbox, pin, mute and a draft kept
// across a restart of the host, the theme and other settings kept too, and every main screen
// checked by axe-core and photographed in both themes at two window sizes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xml from '@xmpp/xml';
import { expect, test, type Page } from '@playwright/test';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, testKeychainService } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { befriend, connectRaw } from '../support/raw-client';
import { expectNoSeriousAxeViolations } from '../support/window';

let server: TestServer;
let host: HostProcess | undefined;
let dataDir: string;
const jids: Record<string, string> = {};
const startHost = async () => (host = await startHostProcess({ dataDir, caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService }));

test.beforeAll(async () => {
  server = await startProsody();
  for (const local of ['alice', 'ann', 'bob', 'dave', 'zed']) jids[local] = await server.register(local, `${local}-pw`);
  const pw = (local: string) => ({ jid: jids[local]!, password: `${local}-pw` });
  await befriend(server, pw('alice'), pw('bob'));
  await befriend(server, pw('ann'), pw('dave'));
  // Alice's two accounts are set up beforehand; bob writes to alice, dave to ann, and zed,
  // whom nobody knows, to alice (a message request).
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-layout-'));
  const setup = await startCore({ server, dataDir });
  for (const local of ['alice', 'ann']) {
    const account = await setup.call('accounts.add', accountFor(server, jids[local]!, `${local}-pw`));
    await setup.waitForState(account.id, (a) => a.connection.state === 'online');
  }
  for (const [from, to, body] of [
    ['bob', 'alice', 'Lunch at noon? The place by the river.'],
    ['dave', 'ann', 'The slides are in the shared folder.'],
    ['zed', 'alice', 'Hello, we met at the conference last week.'],
  ] as const) {
    const client = await connectRaw(server, jids[from]!, `${from}-pw`);
    const stored = setup.waitFor('message.added', (m) => m.body === body);
    await client.send(xml('message', { to: jids[to], type: 'chat', id: `${from}-1` }, xml('body', {}, body)));
    await stored;
    await client.stop();
  }
  await setup.core.close();
  await startHost();
});

test.afterAll(async () => {
  await host?.stop();
  await server?.stop();
});

const row = (page: Page, peer: string) => page.locator(`[data-testid=conversation][data-peer="${peer}"]`);

/** The document itself never scrolls: nothing may make it taller than the window. */
async function expectDocumentFits(page: Page) {
  const { height, inner } = await page.evaluate(() => ({ height: document.scrollingElement!.scrollHeight, inner: window.innerHeight }));
  expect(height).toBeLessThanOrEqual(inner);
}

test('both accounts share the unified inbox, and each account filters it', async ({ page }) => {
  await page.goto(host!.url);
  await expect(page.locator('[data-testid=account-state][data-state=online]')).toHaveCount(2);
  await expect(row(page, jids.bob!)).toBeVisible();
  await expect(row(page, jids.dave!)).toBeVisible();
  await expect(row(page, jids.zed!)).toHaveCount(0); // a stranger waits in requests, not among the chats
  await expect(page.getByTestId('requests-count')).toHaveText('1');
  await expect(page.getByTestId('all-accounts')).toHaveAttribute('aria-pressed', 'true');

  await page.locator(`[data-testid=account-state][data-jid="${jids.ann}"]`).getByTestId('account-filter').click();
  await expect(row(page, jids.dave!)).toBeVisible();
  await expect(row(page, jids.bob!)).toHaveCount(0);
  await page.getByTestId('all-accounts').click();
  await expect(page.getByTestId('conversation')).toHaveCount(2);

  // The request opens as its own view, and back.
  await page.getByTestId('requests-entry').click();
  await expect(page.getByTestId('message-requests').getByTestId('request')).toHaveCount(1);
  await page.getByTestId('requests-back').click();
  await expect(page.getByTestId('conversation')).toHaveCount(2);
});

test('pin, mute and a draft survive a restart of the host', async ({ page }) => {
  await page.goto(host!.url);
  // Dave's chat is open first (newest), bob's is pinned above it and muted.
  await row(page, jids.bob!).click();
  await page.getByTestId('chat-pin').click();
  await page.getByTestId('chat-mute').click();
  await expect(row(page, jids.bob!)).toHaveAttribute('data-pinned', 'true');
  await expect(row(page, jids.bob!)).toHaveAttribute('data-muted', 'true');
  await expect(page.getByTestId('conversation').first()).toHaveAttribute('data-peer', jids.bob!);

  await row(page, jids.dave!).click();
  await page.getByTestId('composer').fill('Thanks, I will look at them tonight');
  await row(page, jids.bob!).click(); // leaving the chat keeps the draft
  await expect(row(page, jids.dave!).getByTestId('conversation-draft')).toBeVisible();
  await expect(row(page, jids.dave!).getByTestId('conversation-preview')).toContainText('Thanks, I will look at them tonight');

  await host!.stop();
  await startHost();
  await page.goto(host!.url);
  await expect(page.getByTestId('conversation').first()).toHaveAttribute('data-peer', jids.bob!);
  await expect(row(page, jids.bob!)).toHaveAttribute('data-pinned', 'true');
  await expect(row(page, jids.bob!).getByTestId('conversation-muted')).toBeVisible();
  await expect(row(page, jids.dave!).getByTestId('conversation-preview')).toContainText('Draft: Thanks, I will look at them tonight');
  await row(page, jids.dave!).click();
  await expect(page.getByTestId('composer')).toHaveValue('Thanks, I will look at them tonight');
  await page.getByTestId('composer').fill('');
  await row(page, jids.bob!).click();
  await expect(row(page, jids.dave!).getByTestId('conversation-draft')).toHaveCount(0);
});

test('the theme switches at once, and settings are kept across a restart', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto(host!.url);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await expect.poll(background).toBe('rgb(255, 255, 255)');
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('theme-dark').check();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect.poll(background).toBe('rgb(23, 25, 29)');
  await page.getByTestId('setting-send-typing').uncheck();
  await page.getByTestId('setting-enter-sends').uncheck();
  await page.getByLabel('Notifications show').selectOption('sender');
  await page.getByTestId('setting-close-to-tray').check();
  // Larger text scales the window's contents, never the document past the window.
  const fontSize = () => page.evaluate(() => document.querySelector('#settings-title')!.getBoundingClientRect().height);
  const normal = await fontSize();
  await page.getByTestId('text-size-large').check();
  await expect(page.locator('html')).toHaveAttribute('data-text-size', 'large');
  expect(await fontSize()).toBeGreaterThan(normal);
  await expectDocumentFits(page);
  await page.getByTestId('nav-contacts').click();
  await expectDocumentFits(page);
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('text-size-normal').check();

  await host!.stop();
  await startHost();
  await page.goto(host!.url);
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.getByTestId('nav-settings').click();
  await expect(page.getByTestId('theme-dark')).toBeChecked();
  await expect(page.getByTestId('setting-send-typing')).not.toBeChecked();
  await expect(page.getByTestId('setting-enter-sends')).not.toBeChecked();
  await expect(page.getByLabel('Notifications show')).toHaveValue('sender');
  await expect(page.getByTestId('setting-close-to-tray')).toBeChecked();
  await expect(page.getByTestId('setting-send-read-markers')).toBeChecked();

  // 'Follow system' follows the system's choice, live.
  await page.getByTestId('theme-system').check();
  await expect.poll(background).toBe('rgb(255, 255, 255)');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect.poll(background).toBe('rgb(23, 25, 29)');
});

const screens: Array<{ name: string; open: (page: Page) => Promise<void> }> = [
  {
    name: 'chat',
    open: async (page) => {
      await page.getByTestId('all-accounts').click();
      await row(page, jids.dave!).click();
      await expect(page.getByTestId('chat-view')).toBeVisible();
      await expect(page.getByTestId('message').first()).toBeVisible();
    },
  },
  {
    name: 'chat-details',
    open: async (page) => {
      await page.getByTestId('details-toggle').click();
      await expect(page.getByTestId('details-pane')).toBeVisible();
    },
  },
  {
    name: 'contacts',
    open: async (page) => {
      await page.getByTestId('details-close').click();
      await expect(page.getByTestId('details-pane')).toHaveCount(0);
      await page.getByTestId('nav-contacts').click();
      await expect(page.getByTestId('contact').first()).toBeVisible();
    },
  },
  {
    name: 'requests',
    open: async (page) => {
      await page.getByTestId('all-accounts').click();
      await page.getByTestId('requests-entry').click();
      await expect(page.getByTestId('request')).toHaveCount(1);
    },
  },
  {
    name: 'settings',
    open: async (page) => {
      await page.getByTestId('nav-settings').click();
      await expect(page.getByTestId('settings-view')).toBeVisible();
    },
  },
];

for (const theme of ['light', 'dark'] as const) {
  test(`every main screen in the ${theme} theme: no serious accessibility problem, and a screenshot`, async ({ page }) => {
    test.setTimeout(300_000); // axe over ten screens on a shared machine
    await page.goto(host!.url);
    await page.getByTestId('nav-settings').click();
    await page.getByTestId(`theme-${theme}`).check();
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 800, height: 600 },
    ]) {
      await page.setViewportSize(viewport);
      for (const screen of screens) {
        await screen.open(page);
        await expectDocumentFits(page);
        await expectNoSeriousAxeViolations(page, `${screen.name} ${theme} ${viewport.width}`);
        await page.screenshot({ path: `test-results/screens/${screen.name}-${theme}-${viewport.width}x${viewport.height}.png` });
      }
    }
  });
}
