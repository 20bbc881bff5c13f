// What a user does in the window, shared by the end-to-end tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Browser, type Page } from '@playwright/test';
import { testKeychainService } from './cores';
import { startHostProcess, type HostProcess } from './host-process';
import type { TestServer } from './prosody';
import { befriend } from './raw-client';

/** A window of its own: a headless host on a fresh data dir (kept in `hosts`, to stop) and a page on it. */
export async function openHostWindow(
  browser: Browser,
  server: TestServer,
  hosts: HostProcess[],
  options: { viewport?: { width: number; height: number }; permissions?: string[] } = {},
): Promise<Page> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-window-'));
  const host = await startHostProcess({ dataDir, caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService });
  hosts.push(host);
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1200, height: 760 } });
  if (options.permissions) await context.grantPermissions(options.permissions);
  const page = await context.newPage();
  await page.goto(host.url);
  return page;
}

/**
 * Alice and bob ("alice-secret", "bob-secret"), mutual contacts on `server`, each with a window
 * of their own (see `openHostWindow`), not signed in yet.
 */
export async function friendsInWindows(
  browser: Browser,
  server: TestServer,
  hosts: HostProcess[],
  options: Parameters<typeof openHostWindow>[3] = {},
): Promise<{ alice: Page; bob: Page; aliceJid: string; bobJid: string }> {
  const aliceJid = await server.register('alice', 'alice-secret');
  const bobJid = await server.register('bob', 'bob-secret');
  await befriend(server, { jid: aliceJid, password: 'alice-secret' }, { jid: bobJid, password: 'bob-secret' });
  return { alice: await openHostWindow(browser, server, hosts, options), bob: await openHostWindow(browser, server, hosts, options), aliceJid, bobJid };
}

/** Types a message in the open chat's composer and sends it with Enter. */
export async function sendInWindow(page: Page, text: string): Promise<void> {
  const composer = page.getByTestId('composer');
  await composer.fill(text);
  await composer.press('Enter');
  await expect(composer).toHaveValue('');
}

/** Adds an account by typing into the add-account form, and waits until it is online. */
export async function addAccountInWindow(page: Page, account: { jid: string; password: string; host: string; port: number }): Promise<void> {
  const form = page.getByTestId('add-account-form');
  await form.getByTestId('account-jid').fill(account.jid);
  await form.getByTestId('account-password').fill(account.password);
  await form.getByText('Advanced').click();
  await form.getByTestId('account-host').fill(account.host);
  await form.getByTestId('account-port').fill(String(account.port));
  await form.getByTestId('account-submit').click();
  await expect(page.locator(`[data-testid=account-state][data-jid="${account.jid}"]`)).toHaveAttribute('data-state', 'online');
}

/** Opens an account's own settings: Settings in the rail, then the account. */
export async function openAccountSettings(page: Page, jid: string): Promise<void> {
  await page.getByTestId('nav-settings').click();
  await page.locator(`[data-testid=settings-account][data-jid="${jid}"]`).getByTestId('account-open-settings').click();
  await expect(page.getByTestId('account-settings')).toHaveAttribute('data-jid', jid);
}

/** axe-core over the page as it is: no serious or critical violation. */
export async function expectNoSeriousAxeViolations(page: Page, screen: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const serious = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ screen, id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  expect(serious).toEqual([]);
}
