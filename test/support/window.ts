// What a user does in the window, shared by the end-to-end tests.
import { expect, type Page } from '@playwright/test';

/** Adds an account by typing into the add-account form, and waits until it is online. */
export async function addAccountInWindow(page: Page, account: { jid: string; password: string; host: string; port: number }): Promise<void> {
  const form = page.getByTestId('add-account-form');
  await form.getByTestId('account-jid').fill(account.jid);
  await form.getByTestId('account-password').fill(account.password);
  await form.getByText('Advanced').click();
  await form.getByTestId('account-host').fill(account.host);
  await form.getByTestId('account-port').fill(String(account.port));
  await form.getByTestId('account-submit').click();
  await expect(page.getByTestId('account-state')).toHaveAttribute('data-state', 'online');
}
