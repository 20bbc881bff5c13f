// A gap in history the server no longer keeps, as the user sees it in the chat.
import { expect, test } from '@playwright/test';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, testKeychainService } from '../support/cores';
import { befriend } from '../support/raw-client';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { expireThroughCursor, nextSecond, sendChats } from '../support/server-archive';

let server: TestServer;
let host: HostProcess | undefined;

test.beforeAll(async () => {
  server = await startProsody({ storage: 'sql' });
});

test.afterAll(async () => {
  await host?.stop();
  await server?.stop();
});

test('a notice between the messages says which ones may be missing', async ({ page }, testInfo) => {
  const aliceJid = await server.register('alice', 'a-pw');
  const bob = { jid: await server.register('bob', 'b-pw'), password: 'b-pw' };
  // Contacts: a stranger's chat would wait in message requests, not in the chat list.
  await befriend(server, { jid: aliceJid, password: 'a-pw' }, bob);
  await sendChats(server, bob, aliceJid, ['Are we still on for Friday?', 'I booked the table']);
  const alice = await startCore({ server });
  const account = await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'));
  await alice.waitForState(account.id, (a) => a.connection.state === 'online' && !a.connection.syncing);
  await alice.core.close();

  await nextSecond();
  await sendChats(server, bob, aliceJid, ['See you there at eight']);
  expireThroughCursor(server, 'alice', alice.dataDir);

  host = await startHostProcess({ dataDir: alice.dataDir, caFile: `${server.dir}/ca.crt`, keychainService: testKeychainService });
  await page.goto(host.url);
  await page.getByTestId('conversation').filter({ hasText: bob.jid }).click();
  const chat = page.getByTestId('chat-view');
  await expect(chat.getByTestId('message').filter({ hasText: 'See you there at eight' })).toBeVisible();
  const notice = chat.getByTestId('gap-notice');
  await expect(notice).toContainText('may be missing: the server no longer keeps them.');
  // In its place: after what Alice had, before what the server still kept.
  await expect(chat.locator('[data-testid="message"], [data-testid="gap-notice"]')).toHaveText([
    /Are we still on for Friday\?/,
    /I booked the table/,
    /Some messages from .+ to .+ may be missing/,
    /See you there at eight/,
  ]);
  await page.screenshot({ path: testInfo.outputPath('gap-notice.png') });
});
