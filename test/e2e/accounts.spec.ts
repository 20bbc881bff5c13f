// Account problems a user fixes from the window: a certificate the system does not trust
// (shown, checked, trusted), and a wrong password (entered again); then switching an account
// off and removing it with its history.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startProsody, type TestServer } from '../support/prosody';
import { testKeychainService } from '../support/cores';
import { startHostProcess, type HostProcess } from '../support/host-process';
import { openAccountSettings } from '../support/window';

let server: TestServer;
let host: HostProcess | undefined;

test.beforeAll(async () => {
  server = await startProsody();
});

test.afterEach(async () => {
  await host?.stop();
  host = undefined;
});

test.afterAll(async () => {
  await server?.stop();
});

async function addAccount(page: Page, jid: string, password: string): Promise<void> {
  const form = page.getByTestId('add-account-form');
  await form.getByTestId('account-jid').fill(jid);
  await form.getByTestId('account-password').fill(password);
  await form.getByText('Advanced').click();
  await form.getByTestId('account-host').fill(server.host);
  await form.getByTestId('account-port').fill(String(server.port));
  await form.getByTestId('account-submit').click();
}

test('an untrusted certificate is shown in full, and trusting it connects', async ({ page }, testInfo) => {
  const jid = await server.register('judy', 'judy-pw');
  // No --trust-ca: to this host the test server's certificate is signed by a stranger.
  host = await startHostProcess({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'heron-judy-')), keychainService: testKeychainService });
  await page.goto(host.url);
  await addAccount(page, jid, 'judy-pw');

  const prompt = page.getByTestId('certificate-prompt');
  await expect(prompt).toBeVisible();
  const cert = server.certificate();
  await expect(prompt.getByTestId('certificate-reason')).toHaveText(
    "The server's certificate was rejected: it is not signed by an authority this computer trusts.",
  );
  await expect(prompt.getByTestId('certificate-subject')).toHaveText('CN=heron.test');
  await expect(prompt.getByTestId('certificate-issuer')).toHaveText('CN=Heron throwaway test CA');
  await expect(prompt.getByTestId('certificate-expires')).toHaveAttribute('data-ts', String(Date.parse(cert.validTo)));
  await expect(prompt.getByTestId('certificate-fingerprint')).toHaveAttribute('aria-label', cert.fingerprint256);
  // Shown as it is compared by eye: in groups, every pair present.
  expect((await prompt.getByTestId('certificate-fingerprint').innerText()).replace(/\s+/g, ':')).toBe(cert.fingerprint256);
  await page.screenshot({ path: testInfo.outputPath('certificate-prompt.png') });

  // Cancel puts it aside; the account says why it is not connected, and the prompt can come back.
  await prompt.getByTestId('certificate-cancel').click();
  await expect(prompt).toBeHidden();
  const row = page.getByTestId('account-state');
  await expect(row).toHaveAttribute('data-state', 'cert-rejected');
  await expect(row.getByTestId('account-state-label')).toHaveText('Certificate not trusted');
  await openAccountSettings(page, jid);
  await page.getByTestId('account-settings').getByText('Review the certificate…').click();

  await prompt.getByTestId('certificate-trust').click();
  await expect(prompt).toBeHidden();
  await expect(row).toHaveAttribute('data-state', 'online');
  await expect(page.getByTestId('settings-state')).toContainText('STARTTLS');
  await page.screenshot({ path: testInfo.outputPath('certificate-trusted.png') });
});

test('a wrong password is fixed in the account settings; the account can be switched off and removed', async ({ page }, testInfo) => {
  const jid = await server.register('kim', 'kim-pw');
  host = await startHostProcess({
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'heron-kim-')),
    caFile: path.join(server.dir, 'ca.crt'),
    keychainService: testKeychainService,
  });
  await page.goto(host.url);
  await addAccount(page, jid, 'not-kims-pw');

  const row = page.getByTestId('account-state');
  await expect(row).toHaveAttribute('data-state', 'auth-failed');
  await expect(row.getByTestId('account-state-label')).toHaveText('Sign-in failed');
  await openAccountSettings(page, jid);

  const settings = page.getByTestId('account-settings');
  await expect(settings.getByTestId('settings-problem')).toContainText('Wrong address or password.');
  const password = settings.getByTestId('settings-password');
  await expect(password).toBeFocused();
  await page.screenshot({ path: testInfo.outputPath('auth-failed-settings.png') });
  await password.fill('kim-pw');
  await password.press('Enter');
  await expect(password).toHaveValue('');
  await expect(row).toHaveAttribute('data-state', 'online');
  await expect(settings.getByTestId('settings-problem')).toHaveCount(0);

  const enabled = settings.getByTestId('account-enabled');
  await enabled.uncheck();
  await expect(row).toHaveAttribute('data-state', 'disabled');
  await expect(settings.getByTestId('account-reconnect')).toBeDisabled();
  await enabled.check();
  await expect(row).toHaveAttribute('data-state', 'online');

  await settings.getByTestId('account-remove').click();
  await settings.getByTestId('account-remove-history').check();
  await page.screenshot({ path: testInfo.outputPath('remove-account.png') });
  await settings.getByTestId('account-remove-confirm').click();
  await expect(page.getByTestId('account-state')).toHaveCount(0);
  // With no account left, the window asks for one.
  await expect(page.getByTestId('add-account-form')).toBeVisible();
});

test('without a reachable keychain, signing in says what to install and blames nothing typed', async ({ page }, testInfo) => {
  const jid = await server.register('lena', 'lena-pw');
  // A plain shell on a headless machine: no session bus, no display.
  const env = { ...process.env };
  for (const name of ['DBUS_SESSION_BUS_ADDRESS', 'DISPLAY', 'WAYLAND_DISPLAY', 'XDG_RUNTIME_DIR']) delete env[name];
  host = await startHostProcess({
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'heron-lena-')),
    caFile: path.join(server.dir, 'ca.crt'),
    keychainService: testKeychainService,
    env,
  });
  await page.goto(host.url);
  await addAccount(page, jid, 'lena-pw');

  const form = page.getByTestId('add-account-form');
  await expect(form.getByTestId('account-error')).toHaveText(
    "Heron could not store the password: no system keychain is reachable. Heron keeps passwords in the desktop's keychain (the Secret Service): " +
      'install gnome-keyring or KWallet and log in to a desktop session that starts it, then try again.',
  );
  await page.screenshot({ path: testInfo.outputPath('no-keychain.png') });
  await expect(form.locator('[aria-invalid="true"]')).toHaveCount(0);
  await expect(form.getByTestId('account-jid')).toHaveValue(jid);
  await expect(form.getByTestId('account-password')).toBeFocused();
  await expect(page.getByTestId('account-state')).toHaveCount(0);
});
