// Message requests end to end: strangers write to alice, they wait in "Message requests"
// (not among the chats, no unread count), one is read and accepted into the chat list, the
// others are blocked together.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xml from '@xmpp/xml';
import { expect, test } from '@playwright/test';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, testKeychainService } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { connectRaw, nextStanza, type RawClient } from '../support/raw-client';

let server: TestServer;
let host: HostProcess | undefined;
const raws: RawClient[] = [];
const jids: Record<string, string> = {};

test.beforeAll(async () => {
  server = await startProsody();
  for (const local of ['alice', 'erin', 'spam1', 'spam2']) jids[local] = await server.register(local, `${local}-pw`);
  const aliceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-alice-'));
  const setup = await startCore({ server, dataDir: aliceDir });
  const account = await setup.call('accounts.add', accountFor(server, jids.alice!, 'alice-pw'));
  await setup.waitForState(account.id, (a) => a.connection.state === 'online');
  await setup.core.close();
  host = await startHostProcess({ dataDir: aliceDir, caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService });
});

test.afterAll(async () => {
  for (const raw of raws) await raw.stop();
  await host?.stop();
  await server?.stop();
});

async function stranger(local: string): Promise<RawClient> {
  const client = await connectRaw(server, jids[local]!, `${local}-pw`, 'phone');
  raws.push(client);
  await client.send(xml('presence'));
  return client;
}

const say = (client: RawClient, id: string, body: string) =>
  client.send(xml('message', { to: jids.alice, type: 'chat', id }, xml('body', {}, body), xml('request', { xmlns: 'urn:xmpp:receipts' })));

test('strangers wait in message requests; one is accepted into the chats, the rest blocked at once', async ({ page }, testInfo) => {
  await page.goto(host!.url);
  await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online');

  const erin = await stranger('erin');
  await erin.send(xml('presence', { to: jids.alice, type: 'subscribe' }, xml('nick', { xmlns: 'http://jabber.org/protocol/nick' }, 'Erin'), xml('status', {}, 'We met at the climbing wall')));
  await say(erin, 'e1', 'Hi Alice, it is Erin from the climbing wall');
  await say(erin, 'e2', 'Are you coming on Sunday?');
  for (const local of ['spam1', 'spam2']) {
    const spammer = await stranger(local);
    for (let n = 1; n <= 3; n++) await say(spammer, `${local}-${n}`, `Cheap watches, offer ${n} <b>now</b>`);
  }

  // Nothing of theirs among the chats, and no unread count anywhere: one entry says who waits.
  await expect(page.getByTestId('requests-count')).toHaveText('3');
  await expect(page.getByTestId('conversation')).toHaveCount(0);
  await expect(page.getByTestId('unread-badge')).toHaveCount(0);
  await expect(page).toHaveTitle('Heron');
  await page.getByTestId('requests-entry').click();
  const requests = page.getByTestId('message-requests');
  await expect(requests.getByTestId('request')).toHaveCount(3);
  const erinRequest = requests.locator(`[data-testid=request][data-jid="${jids.erin}"]`);
  await expect(erinRequest).toHaveAttribute('data-kind', 'both');
  await expect(erinRequest.getByTestId('request-open')).toContainText('Are you coming on Sunday?');
  await expect(erinRequest.getByTestId('request-open')).toContainText('+1 more');
  await expect(requests.locator(`[data-testid=request][data-jid="${jids.spam1}"]`).getByTestId('request-open')).toContainText('offer 3 <b>now</b>');
  await expect(requests.locator('b')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('message-requests.png') });

  // Reading erin's chat first: the whole conversation, with a note that she is no contact yet.
  await erinRequest.getByTestId('request-open').click();
  await expect(page.getByTestId('chat-view')).toHaveAttribute('data-peer', jids.erin!);
  await expect(page.getByTestId('chat-request-banner')).toBeVisible();
  await expect(page.getByTestId('message-body')).toHaveText(['Hi Alice, it is Erin from the climbing wall', 'Are you coming on Sunday?']);
  await page.screenshot({ path: testInfo.outputPath('message-request-open.png') });

  // Accepting asks to see her presence back, and moves the chat into the list.
  const askedBack = nextStanza(erin, (s) => s.is('presence') && s.attrs.type === 'subscribe');
  await erinRequest.getByTestId('request-approve').click();
  await askedBack;
  await expect(page.getByTestId('chat-request-banner')).toHaveCount(0);
  await page.getByTestId('requests-back').click();
  await expect(page.locator(`[data-testid=conversation][data-peer="${jids.erin}"]`)).toBeVisible();
  await page.getByTestId('requests-entry').click();

  // The two spammers go together.
  await expect(requests.getByTestId('request')).toHaveCount(2);
  await requests.getByTestId('requests-select-all').check();
  await requests.getByTestId('requests-report-selected').click();
  await expect(page.getByTestId('message-requests')).toHaveCount(0);
  await page.getByTestId('requests-back').click();
  await expect(page.getByTestId('requests-entry')).toHaveCount(0);
  await expect(page.getByTestId('conversation')).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath('message-requests-settled.png') });
});
