// xmpp: links and notifications end to end: a link is handed to the running host the way a
// second instance hands it over (`cli.mjs --open-uri`); the window asks alice, and only then
// opens the chat or asks bob for his presence. Carol is a contact whose messages notify.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xml, { type Element } from '@xmpp/xml';
import { expect, test, type Page } from '@playwright/test';
import type { HeronApi } from '../../preload/contract';
import type { NotificationRecord } from '../../main/host/notification-log';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, testKeychainService } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { befriend, connectRaw, nextStanza, type RawClient } from '../support/raw-client';
import { until } from '../support/until';

let server: TestServer;
let host: HostProcess | undefined;
let bob: RawClient | undefined;
let carol: RawClient | undefined;
const jids: Record<string, string> = {};

test.beforeAll(async () => {
  server = await startProsody();
  for (const local of ['alice', 'bob', 'carol']) jids[local] = await server.register(local, `${local}-pw`);
  await befriend(server, { jid: jids.alice!, password: 'alice-pw' }, { jid: jids.carol!, password: 'carol-pw' });
  const aliceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-alice-'));
  const setup = await startCore({ server, dataDir: aliceDir });
  const account = await setup.call('accounts.add', accountFor(server, jids.alice!, 'alice-pw'));
  await setup.waitForState(account.id, (a) => a.connection.state === 'online');
  await setup.core.close();
  host = await startHostProcess({ dataDir: aliceDir, caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService });
  bob = await connectRaw(server, jids.bob!, 'bob-pw', 'phone');
  // Available, so the server hands him alice's request at once.
  await bob.send(xml('presence'));
  carol = await connectRaw(server, jids.carol!, 'carol-pw', 'phone');
});

test.afterAll(async () => {
  await bob?.stop();
  await carol?.stop();
  await host?.stop();
  await server?.stop();
});

async function openWindow(page: Page): Promise<void> {
  await page.goto(host!.url);
  await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online');
}

test('a link asks first, then opens the chat with its text in the message box, unsent', async ({ page }, testInfo) => {
  await openWindow(page);
  const link = `xmpp:${jids.bob}?message;body=Hello%20Bob%2C%0Ameet%20at%20noon%3F`;
  expect(await host!.openUri(link)).toContain('Handed the link to the running Heron host');

  const prompt = page.getByTestId('uri-prompt');
  await expect(prompt).toBeVisible();
  await expect(prompt.getByTestId('uri-request')).toHaveAttribute('data-action', 'chat');
  await expect(prompt.getByTestId('uri-account')).toHaveText(jids.alice!);
  await expect(prompt.getByTestId('uri-jid')).toHaveText(jids.bob!);
  await expect(prompt.getByTestId('uri-body')).toHaveText('Hello Bob,\nmeet at noon?');
  await expect(prompt.getByTestId('uri-text')).toHaveText(link);
  // Nothing happened yet: no chat with bob.
  await expect(page.getByTestId('chat-view')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('uri-prompt-chat.png') });

  await prompt.getByTestId('uri-confirm').click();
  await expect(prompt).toHaveCount(0);
  await expect(page.getByTestId('chat-view')).toHaveAttribute('data-peer', jids.bob!);
  await expect(page.getByTestId('composer')).toHaveValue('Hello Bob,\nmeet at noon?');
  await page.screenshot({ path: testInfo.outputPath('uri-chat-opened.png') });
  const sent = await page.evaluate(async (peer) => {
    const api = (window as unknown as { heron: HeronApi }).heron;
    const chat = (await api.invoke('conversations.list', {})).find((c) => c.peer === peer)!;
    return (await api.invoke('messages.page', { conversationId: chat.id, limit: 10 })).messages.length;
  }, jids.bob!);
  expect(sent).toBe(0);
});

test('a link carrying an OMEMO key says so, and once confirmed pins that key for the device', async ({ page }, testInfo) => {
  await openWindow(page);
  const key = 'c0ffee'.repeat(10) + 'c0ff';
  const link = `xmpp:${jids.bob}?omemo-sid-4711=05${key}`;
  expect(await host!.openUri(link)).toContain('Handed the link to the running Heron host');
  const prompt = page.getByTestId('uri-prompt');
  await expect(prompt.getByTestId('uri-fingerprints')).toHaveText(new RegExp(`keys of one device of ${jids.bob}`));
  await page.screenshot({ path: testInfo.outputPath('uri-prompt-fingerprint.png') });
  await prompt.getByTestId('uri-confirm').click();
  await expect(page.getByRole('alert')).toContainText(`Device 4711 of ${jids.bob} not seen yet: Heron will trust it only with the key the link gives.`);
  await page.screenshot({ path: testInfo.outputPath('uri-fingerprint-pinned.png') });
  const devices = await page.evaluate(async (peer) => {
    const api = (window as unknown as { heron: HeronApi }).heron;
    const chat = (await api.invoke('conversations.list', {})).find((c) => c.peer === peer)!;
    return (await api.invoke('omemo.devices', { conversationId: chat.id })).devices;
  }, jids.bob!);
  expect(devices).toEqual([expect.objectContaining({ deviceId: 4711, trust: 'verified', active: false, fingerprint: key })]);
});

test('a roster link adds the contact and asks bob, only once alice confirms', async ({ page }, testInfo) => {
  await openWindow(page);
  // Cancelled: nothing is added.
  await host!.openUri(`xmpp:${jids.bob}?subscribe`);
  await page.getByTestId('uri-prompt').getByTestId('uri-cancel').click();
  await expect(page.getByTestId('uri-prompt')).toHaveCount(0);
  await page.getByTestId('nav-contacts').click();
  await expect(page.locator(`[data-testid=contact][data-jid="${jids.bob}"]`)).toHaveCount(0);

  const asked = nextStanza(bob!, (s: Element) => s.is('presence') && s.attrs.type === 'subscribe' && Boolean(s.attrs.from?.startsWith(jids.alice!)));
  await host!.openUri(`xmpp:${jids.bob}?roster;name=Bobby;group=Climbing`);
  const prompt = page.getByTestId('uri-prompt');
  await expect(prompt.getByTestId('uri-request')).toHaveAttribute('data-action', 'add-contact');
  await expect(prompt.getByTestId('uri-what')).toContainText('“Bobby”');
  await expect(prompt.getByTestId('uri-what')).toContainText('“Climbing”');
  await page.screenshot({ path: testInfo.outputPath('uri-prompt-contact.png') });
  await prompt.getByTestId('uri-confirm').click();
  await asked;
  await expect(prompt).toHaveCount(0);
  await expect(page.locator(`[data-testid=contact][data-jid="${jids.bob}"]`)).toContainText('Bobby');
});

test('a hostile link or one for an account not set up is refused with the reason, and nothing can be confirmed', async ({ page }, testInfo) => {
  await openWindow(page);
  await host!.openUri('javascript:alert(document.domain)//xmpp:bob@example.org');
  const prompt = page.getByTestId('uri-prompt');
  await expect(prompt.getByTestId('uri-request')).toHaveAttribute('data-action', 'refused');
  await expect(prompt.getByTestId('uri-reason')).toHaveText('Only xmpp: links open in Heron.');
  await expect(prompt.getByTestId('uri-confirm')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('uri-prompt-refused.png') });
  await prompt.getByTestId('uri-cancel').click();

  await host!.openUri(`xmpp://mallory@elsewhere.example/${jids.bob}?message;body=hi`);
  await expect(prompt.getByTestId('uri-reason')).toHaveText('The link is for the account mallory@elsewhere.example, which is not set up in Heron.');
  await prompt.getByTestId('uri-cancel').click();
  await expect(prompt).toHaveCount(0);
});

test('a message from a contact not in view notifies; the click opens that chat; in view it does not notify', async ({ page }) => {
  await openWindow(page);
  const notifications = async () => (await host!.control({ notifications: true })) as NotificationRecord;
  const before = (await notifications()).decisions.length;
  await carol!.send(xml('message', { to: jids.alice, type: 'chat', id: 'n1' }, xml('body', {}, 'Rope at six?')));
  const first = await until('a notification for carol', async () => (await notifications()).decisions.slice(before).find((d) => d.decision.kind === 'notify'));
  const { decision, conversationId } = first;
  expect(decision).toEqual({
    kind: 'notify',
    notice: { title: jids.carol, body: 'Rope at six?', group: `conversation-${conversationId}`, silent: false, conversationId, accountId: expect.any(String) },
  });
  expect((await notifications()).badge).toBe(1);

  await host!.control({ clickNotification: conversationId });
  await expect(page.getByTestId('chat-view')).toHaveAttribute('data-peer', jids.carol!);

  const count = (await notifications()).decisions.length;
  await carol!.send(xml('message', { to: jids.alice, type: 'chat', id: 'n2' }, xml('body', {}, 'Or seven.')));
  const second = await until('a decision on her second message', async () => (await notifications()).decisions[count]);
  expect(second.decision).toEqual({ kind: 'none', reason: 'in-view' });
});

test('with notifications turned off in Settings, a message from a contact notifies nothing', async ({ page }) => {
  await openWindow(page);
  const notifications = async () => (await host!.control({ notifications: true })) as NotificationRecord;
  const settingsEnabled = () =>
    page.evaluate(async () => (await (window as unknown as { heron: HeronApi }).heron.invoke('settings.get', {})).notifications.enabled);
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('setting-notifications').uncheck();
  await until('the setting stored', async () => (await settingsEnabled()) === false || undefined);

  const count = (await notifications()).decisions.length;
  await carol!.send(xml('message', { to: jids.alice, type: 'chat', id: 'n3' }, xml('body', {}, 'Are you coming?')));
  const decision = await until('a decision on her message', async () => (await notifications()).decisions[count]);
  expect(decision.decision).toEqual({ kind: 'none', reason: 'disabled' });

  // Back on for whoever runs after: the setting is kept in the archive.
  await page.getByTestId('setting-notifications').check();
  await until('the setting stored', async () => (await settingsEnabled()) || undefined);
});
