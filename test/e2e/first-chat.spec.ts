// The first real chat, end to end: alice uses the window, bob is a second Heron core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from '@playwright/test';
import { startProsody, type TestServer } from '../support/prosody';
import { startCore, testKeychainService, type TestCore } from '../support/cores';
import { befriend } from '../support/raw-client';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { addAccountInWindow } from '../support/window';

let server: TestServer;
let bob: TestCore;
let host: HostProcess | undefined;
let aliceDir: string;
let caFile: string;
let aliceJid: string;
let bobJid: string;

test.beforeAll(async () => {
  server = await startProsody();
  aliceJid = await server.register('alice', 'alice-secret');
  bobJid = await server.register('bob', 'bob-secret');
  // Contacts: bob's client sends receipts only to who sees his presence (XEP-0184 §8).
  await befriend(server, { jid: aliceJid, password: 'alice-secret' }, { jid: bobJid, password: 'bob-secret' });
  aliceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-alice-'));
  caFile = path.join(server.dir, 'ca.crt');
  bob = await startCore({ server });
  const account = await bob.call('accounts.add', { jid: bobJid, password: 'bob-secret', host: server.host, port: server.port });
  await bob.waitForState(account.id, (a) => a.connection.state === 'online');
});

test.afterAll(async () => {
  await host?.stop();
  await bob?.core.close();
  await server?.stop();
});

function messagesIn(dataDir: string): Array<{ direction: string; body: string }> {
  const db = new Database(path.join(dataDir, 'heron.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT direction, body FROM messages ORDER BY ts, id').all() as Array<{ direction: string; body: string }>;
  } finally {
    db.close();
  }
}

test('alice adds her account, chats with bob, and sees her history after a restart', async ({ page }, testInfo) => {
  host = await startHostProcess({ dataDir: aliceDir, caFile, keychainService: testKeychainService });
  await page.goto(host.url);

  // Add the account by typing into the window.
  await addAccountInWindow(page, { jid: aliceJid, password: 'alice-secret', host: server.host, port: server.port });

  // Open a chat with bob and send with Enter.
  await page.getByTestId('start-chat-jid').fill(bobJid);
  await page.getByTestId('start-chat-submit').click();
  const composer = page.getByTestId('composer');
  await expect(composer).toBeFocused();
  await composer.fill('Hi Bob! <b>this stays text</b>');
  await composer.press('Enter');
  await expect(composer).toHaveValue('');

  const received = await bob.waitFor('message.added', (m) => m.direction === 'in');
  expect(received.body).toBe('Hi Bob! <b>this stays text</b>');
  await bob.call('messages.send', { conversationId: received.conversationId, body: 'Hello Alice, got it.' });

  const chat = page.getByTestId('chat-view');
  await expect(chat.getByTestId('message').filter({ hasText: 'Hello Alice, got it.' })).toHaveAttribute('data-direction', 'in');
  const mine = chat.getByTestId('message').filter({ hasText: 'Hi Bob!' });
  await expect(mine).toHaveAttribute('data-direction', 'out');
  await expect(mine).toHaveAttribute('data-state', 'delivered');
  // Network text is shown as text: no <b> element was created from it.
  await expect(mine.locator('b')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('chat-window.png') });

  const bothMessages = [
    { direction: 'out', body: 'Hi Bob! <b>this stays text</b>' },
    { direction: 'in', body: 'Hello Alice, got it.' },
  ];
  expect(messagesIn(aliceDir)).toEqual(bothMessages);
  expect(messagesIn(bob.dataDir)).toEqual(bothMessages.map((m) => ({ ...m, direction: m.direction === 'out' ? 'in' : 'out' })));

  // Restart alice's host while the server is down: history comes from the archive alone.
  await host.stop();
  await server.stop();
  host = await startHostProcess({ dataDir: aliceDir, caFile, keychainService: testKeychainService });
  await page.goto(host.url);
  await page.getByTestId('conversation').filter({ hasText: bobJid }).click();
  await expect(page.getByTestId('chat-view').getByTestId('message')).toHaveCount(2);
  await expect(page.getByTestId('account-state')).not.toHaveAttribute('data-state', 'online');
  await page.screenshot({ path: testInfo.outputPath('history-offline.png') });

  await server.start();
  await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online', { timeout: 30_000 });
  expect(messagesIn(aliceDir)).toEqual(bothMessages);
});

test('a message to an address that does not exist fails with the reason; Retry sends the same message once it does', async ({ page }, testInfo) => {
  await page.goto(host!.url);
  await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online');
  const carolJid = `carol@${server.domain}`;
  await page.getByTestId('start-chat-jid').fill(carolJid);
  await page.getByTestId('start-chat-submit').click();
  await page.getByTestId('composer').fill('Are you there, Carol?');
  await page.getByTestId('composer').press('Enter');
  const message = page.getByTestId('chat-view').getByTestId('message').filter({ hasText: 'Are you there, Carol?' });
  await expect(message).toHaveAttribute('data-state', 'failed');
  await expect(message.getByTestId('message-error')).toContainText('does not exist');
  await page.screenshot({ path: testInfo.outputPath('message-failed.png') });

  await server.register('carol', 'carol-secret');
  await message.getByTestId('message-retry').click();
  await expect(message).toHaveAttribute('data-state', 'sent');
  await expect(message.getByTestId('message-error')).toHaveCount(0);
  await expect(message).toHaveCount(1);
  expect(messagesIn(aliceDir).filter((m) => m.body === 'Are you there, Carol?')).toHaveLength(1);
});
