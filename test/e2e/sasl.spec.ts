// A server that suddenly offers only PLAIN to an account that signed in with SCRAM before:
// the window says why it is not connected, and the user can allow it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { startProsody, type TestServer } from '../support/prosody';
import { testKeychainService } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { openAccountSettings } from '../support/window';

let honest: TestServer;
let plainOnly: TestServer;
let host: HostProcess | undefined;

test.beforeAll(async () => {
  [honest, plainOnly] = await Promise.all([startProsody(), startProsody({ disableSasl: ['SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'] })]);
});

test.afterAll(async () => {
  await host?.stop();
  await Promise.all([honest?.stop(), plainOnly?.stop()]);
});

test('PLAIN after SCRAM is refused with the reason shown, and allowing it signs in', async ({ page }, testInfo) => {
  const jid = await honest.register('lee', 'lee-pw');
  await plainOnly.register('lee', 'lee-pw');
  host = await startHostProcess({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'heron-lee-')), caFile: path.join(honest.dir, 'ca.crt'), keychainService: testKeychainService });
  await page.goto(host.url);

  const form = page.getByTestId('add-account-form');
  await form.getByTestId('account-jid').fill(jid);
  await form.getByTestId('account-password').fill('lee-pw');
  await form.getByText('Advanced').click();
  await form.getByTestId('account-host').fill(honest.host);
  await form.getByTestId('account-port').fill(String(honest.port));
  await form.getByTestId('account-submit').click();
  const row = page.getByTestId('account-state');
  await expect(row).toHaveAttribute('data-state', 'online');

  // The user is sent to another server (or someone in between is), whose certificate they trust.
  await openAccountSettings(page, jid);
  const settings = page.getByTestId('account-settings');
  await settings.getByTestId('settings-port').fill(String(plainOnly.port));
  await settings.getByTestId('settings-port').press('Enter');
  await page.getByTestId('certificate-prompt').getByTestId('certificate-trust').click();

  await expect(row).toHaveAttribute('data-state', 'auth-failed');
  const problem = settings.getByTestId('settings-problem');
  await expect(problem).toContainText('offers only a login that shows it your password (PLAIN)');
  await expect(problem).toContainText('Heron did not send your password.');
  // Not a password problem: the password field is neither focused nor marked wrong.
  await expect(settings.getByTestId('settings-password')).not.toBeFocused();
  await expect(settings.getByTestId('settings-password')).not.toHaveAttribute('aria-invalid');
  await page.screenshot({ path: testInfo.outputPath('plain-refused.png') });

  await problem.getByTestId('allow-plain').click();
  await expect(row).toHaveAttribute('data-state', 'online');
  await expect(settings.getByTestId('settings-problem')).toHaveCount(0);
});
