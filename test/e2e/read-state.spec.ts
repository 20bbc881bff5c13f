// What read markers look like in the window: my message turns "read" when the contact has
// displayed it, a chat's unread badge goes away when I read it on my phone, and opening a chat
// tells the contact I read it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import xml from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { startCore, testKeychainService, type TestCore } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { befriend, connectRaw, nextStanza } from '../support/raw-client';
import { addAccountInWindow } from '../support/window';

// Twice the pixels, so the small state ticks can be told apart in the screenshots.
test.use({ deviceScaleFactor: 2 });

let server: TestServer;
let bob: TestCore;
let host: HostProcess | undefined;
let aliceJid: string;
let bobJid: string;

test.beforeAll(async () => {
  server = await startProsody();
  aliceJid = await server.register('alice', 'alice-secret');
  bobJid = await server.register('bob', 'bob-secret');
  await befriend(server, { jid: aliceJid, password: 'alice-secret' }, { jid: bobJid, password: 'bob-secret' });
  bob = await startCore({ server });
  const account = await bob.call('accounts.add', { jid: bobJid, password: 'bob-secret', host: server.host, port: server.port });
  await bob.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
});

test.afterAll(async () => {
  await host?.stop();
  await bob?.core.close();
  await server?.stop();
});

test('read states and unread counts follow what bob and my phone have seen', async ({ page }, testInfo) => {
  const aliceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-alice-'));
  host = await startHostProcess({ dataDir: aliceDir, caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService });
  await page.goto(host.url);
  await addAccountInWindow(page, { jid: aliceJid, password: 'alice-secret', host: server.host, port: server.port });

  // Alice writes; bob opens his chat; her message shows as read.
  await page.getByTestId('start-chat-jid').fill(bobJid);
  await page.getByTestId('start-chat-submit').click();
  await page.getByTestId('composer').fill('Lunch at noon?');
  await page.getByTestId('composer').press('Enter');
  const mine = page.getByTestId('chat-view').getByTestId('message').filter({ hasText: 'Lunch at noon?' });
  await expect(mine).toHaveAttribute('data-state', 'delivered');
  await mine.screenshot({ path: testInfo.outputPath('bubble-delivered.png') });
  const atBob = await bob.waitFor('message.added', (m) => m.body === 'Lunch at noon?');
  await bob.call('conversations.markRead', { conversationId: atBob.conversationId });
  await expect(mine).toHaveAttribute('data-state', 'read');
  await expect(mine.getByTestId('message-state')).toHaveAttribute('aria-label', 'Read');
  await mine.screenshot({ path: testInfo.outputPath('bubble-read.png') });

  // Alice looks at another chat; bob answers twice: bob's chat shows 2 unread.
  await page.getByTestId('start-chat-jid').fill(`carol@${server.domain}`);
  await page.getByTestId('start-chat-submit').click();
  const phone = await connectRaw(server, aliceJid, 'alice-secret', 'phone');
  try {
    await phone.send(xml('presence'));
    await phone.iqCaller.get(xml('ping', { xmlns: 'urn:xmpp:ping' }));
    // Alice's phone is a client without OMEMO: bob writes in clear, or it could not read him.
    await bob.call('omemo.setEnabled', { conversationId: atBob.conversationId, enabled: false });
    const second = nextStanza(phone, (s) => s.is('message') && s.getChildText('body') === 'Sure, see you there');
    await bob.call('messages.send', { conversationId: atBob.conversationId, body: 'Yes!' });
    const answer = await bob.call('messages.send', { conversationId: atBob.conversationId, body: 'Sure, see you there' });
    const bobRow = page.getByTestId('conversation').filter({ hasText: bobJid });
    await expect(bobRow.getByTestId('unread-badge')).toHaveText('2 unread');
    await page.screenshot({ path: testInfo.outputPath('unread.png') });

    // Alice reads them on her phone: the badge goes here too, and bob sees his answer read.
    await phone.send(xml('message', { to: bobJid, type: 'chat', id: 'phone-read' }, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: (await second).attrs.id! })));
    await expect(bobRow.getByTestId('unread-badge')).toHaveCount(0);
    await expect(bobRow).toHaveAttribute('data-unread', '0');
    await bob.waitFor('message.updated', (m) => m.id === answer.id && m.state === 'read');
    await page.screenshot({ path: testInfo.outputPath('read-on-phone.png') });
  } finally {
    await phone.stop();
  }

  // A new message from bob while his chat is open and the window focused: read at once, and bob hears so.
  await page.getByTestId('conversation').filter({ hasText: bobJid }).click();
  const third = await bob.call('messages.send', { conversationId: atBob.conversationId, body: 'Bring an umbrella' });
  await expect(page.getByTestId('chat-view').getByTestId('message').filter({ hasText: 'Bring an umbrella' })).toBeVisible();
  await bob.waitFor('message.updated', (m) => m.id === third.id && m.state === 'read');
  await expect(page.getByTestId('conversation').filter({ hasText: bobJid })).toHaveAttribute('data-unread', '0');
});
