// Contacts end to end: alice uses the window; carol and dave are other people's clients.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xml, { type Element } from '@xmpp/xml';
import { expect, test } from '@playwright/test';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, testKeychainService } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { connectRaw, nextStanza, type RawClient } from '../support/raw-client';

let server: TestServer;
let host: HostProcess | undefined;
let carol: RawClient | undefined;
const jids: Record<string, string> = {};

test.beforeAll(async () => {
  server = await startProsody();
  for (const local of ['alice', 'carol', 'dave']) jids[local] = await server.register(local, `${local}-pw`);
  // Alice's account is set up before the window opens (adding one is first-chat's subject).
  const aliceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-alice-'));
  const setup = await startCore({ server, dataDir: aliceDir });
  const account = await setup.call('accounts.add', accountFor(server, jids.alice!, 'alice-pw'));
  await setup.waitForState(account.id, (a) => a.connection.state === 'online');
  await setup.core.close();
  host = await startHostProcess({ dataDir: aliceDir, caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService });
});

test.afterAll(async () => {
  await carol?.stop();
  await host?.stop();
  await server?.stop();
});

const fromAlice = (type?: string) => (s: Element) => s.is('presence') && Boolean(s.attrs.from?.startsWith(jids.alice!)) && s.attrs.type === type;

test('a request from someone appears, alice approves, and they become a contact with presence', async ({ page }, testInfo) => {
  await page.goto(host!.url);
  await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online');

  carol = await connectRaw(server, jids.carol!, 'carol-pw', 'phone');
  await carol.iqCaller.get(xml('query', { xmlns: 'jabber:iq:roster' }));
  await carol.send(xml('presence', {}, xml('show', {}, 'away'), xml('status', {}, 'Out for lunch')));
  await carol.send(
    xml(
      'presence',
      { to: jids.alice, type: 'subscribe' },
      xml('nick', { xmlns: 'http://jabber.org/protocol/nick' }, 'Carol'),
      xml('status', {}, 'Hi Alice, it is <b>Carol</b> from the climbing club'),
    ),
  );

  await page.getByTestId('requests-entry').click();
  const request = page.locator(`[data-testid=request][data-jid="${jids.carol}"]`);
  await expect(request).toBeVisible();
  await expect(request.getByTestId('request-message')).toHaveText('“Hi Alice, it is <b>Carol</b> from the climbing club”');
  await expect(request.locator('b')).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath('request.png') });

  // Approving asks carol back; her phone accepts.
  const askedBack = nextStanza(carol, fromAlice('subscribe'));
  await request.getByTestId('request-approve').click();
  await expect(page.getByTestId('request')).toHaveCount(0);
  await askedBack;
  await carol.send(xml('presence', { to: jids.alice, type: 'subscribed' }));
  await page.getByTestId('nav-contacts').click();

  const contact = page.locator(`[data-testid=contact][data-jid="${jids.carol}"]`);
  await expect(contact).toHaveAttribute('data-presence', 'away');
  await expect(contact).toContainText('Carol');
  await expect(contact.getByTestId('contact-status')).toHaveText('Away — Out for lunch');
  await page.screenshot({ path: testInfo.outputPath('contact-approved.png') });
});

test('alice sets do not disturb, adds a contact and renames another', async ({ page }, testInfo) => {
  await page.goto(host!.url);
  await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online');

  // Presence for all accounts, from the sidebar; carol (now a contact) sees it.
  const seen = nextStanza(carol!, fromAlice());
  await page.getByTestId('presence-button').click();
  const menu = page.getByTestId('presence-menu');
  await menu.locator('[data-show=dnd]').click();
  await menu.getByTestId('presence-status').fill('Writing, back at 3');
  await page.screenshot({ path: testInfo.outputPath('presence-menu.png') });
  await menu.getByTestId('presence-save').click();
  await expect(menu).toBeHidden();
  await expect(page.getByTestId('presence-button')).toHaveAttribute('data-show', 'dnd');
  const presence = await seen;
  expect([presence.getChildText('show'), presence.getChildText('status')]).toEqual(['dnd', 'Writing, back at 3']);

  // Add dave through the dialog: he shows as waiting until he answers.
  await page.getByTestId('nav-contacts').click();
  await page.getByTestId('add-contact-button').click();
  const dialog = page.getByTestId('add-contact-dialog');
  await dialog.getByTestId('add-contact-jid').fill(`xmpp:${jids.dave}`);
  await dialog.getByTestId('add-contact-name').fill('Dave');
  await dialog.getByTestId('add-contact-groups').fill('Work, Climbing ,Work');
  await page.screenshot({ path: testInfo.outputPath('add-contact.png') });
  await dialog.getByTestId('add-contact-submit').click();
  await expect(dialog).toBeHidden();
  const dave = page.locator(`[data-testid=contact][data-jid="${jids.dave}"]`);
  await expect(dave.first().getByTestId('contact-status')).toHaveText('Waiting for approval');
  await expect(page.getByTestId('contact-group')).toHaveText(['Climbing', 'Work', 'Other contacts']);

  // Rename carol from her row's menu.
  const carolRow = page.locator(`[data-testid=contact][data-jid="${jids.carol}"]`);
  await carolRow.click({ button: 'right' });
  await page.screenshot({ path: testInfo.outputPath('contact-menu.png') });
  await page.getByTestId('contact-edit').click();
  const edit = page.getByTestId('edit-contact-dialog');
  await expect(edit.getByTestId('edit-contact-name')).toHaveValue('Carol');
  await edit.getByTestId('edit-contact-name').fill('Carol from climbing');
  await edit.getByTestId('edit-contact-groups').fill('Climbing');
  await edit.getByTestId('edit-contact-save').click();
  await expect(edit).toBeHidden();
  await expect(carolRow).toContainText('Carol from climbing');
  await expect(page.getByTestId('contact-group')).toHaveText(['Climbing', 'Work']);
  await page.screenshot({ path: testInfo.outputPath('contacts-grouped.png') });

  // And remove dave again, confirming.
  await page.getByRole('button', { name: 'Actions for Dave' }).first().click();
  await page.getByTestId('contact-remove').click();
  await page.getByTestId('remove-contact-confirm').click();
  await expect(dave).toHaveCount(0);
});
