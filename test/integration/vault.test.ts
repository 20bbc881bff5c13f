import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import keytar from 'keytar';
import { startProsody, type TestServer } from '../support/prosody';
import { startCore, testKeychainService, type TestCore } from '../support/cores';
import { startHostProcess } from '../support/host-process';
import { connectApi } from '../support/api-client';

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(full) : [full];
  });
}

describe('the password lives in the keychain only', () => {
  let server: TestServer;
  let core: TestCore;
  const password = 'correct-horse-battery-staple-7f3a';

  beforeAll(async () => {
    server = await startProsody();
    core = await startCore({ server });
  });

  afterAll(async () => {
    await core?.core.close();
    await server?.stop();
  });

  it('stores it in gnome-keyring and writes it to no file of ours', async () => {
    expect(process.env.DBUS_SESSION_BUS_ADDRESS, 'tests run inside a private D-Bus session').toBeTruthy();
    const jid = await server.register('frank', password);
    const account = await core.call('accounts.add', { jid, password, host: server.host, port: server.port });
    await core.waitForState(account.id, (a) => a.connection.state === 'online');
    // Exercise the archive so the WAL and the log have content.
    const conversation = await core.call('conversations.open', { accountId: account.id, peer: 'someone@heron.test' });
    await core.call('messages.send', { conversationId: conversation.id, body: 'hello' });

    expect(await keytar.getPassword(testKeychainService, jid)).toBe(password);

    const files = filesUnder(core.dataDir);
    expect(files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['heron.sqlite', 'heron.sqlite-wal', 'heron.log']));
    for (const file of files) {
      const bytes = fs.readFileSync(file);
      for (const encoding of ['utf8', 'utf16le', 'base64'] as const) {
        expect(bytes.includes(Buffer.from(password, 'utf8').toString(encoding === 'base64' ? 'base64' : 'utf8')), `${file} (${encoding})`).toBe(false);
        expect(bytes.includes(Buffer.from(password, encoding === 'utf16le' ? 'utf16le' : 'utf8')), `${file} (${encoding})`).toBe(false);
      }
    }
    // Nor anything the window can ask for.
    expect(JSON.stringify(core.events)).not.toContain(password);
    expect(JSON.stringify(await core.call('accounts.list', {}))).not.toContain(password);
  });
});

describe('without a reachable keychain', () => {
  it('adding an account says what to install and start, and creates no account', async () => {
    const server = await startProsody();
    // A plain shell on a headless machine: no session bus, no display.
    const env = { ...process.env };
    for (const name of ['DBUS_SESSION_BUS_ADDRESS', 'DISPLAY', 'WAYLAND_DISPLAY', 'XDG_RUNTIME_DIR']) delete env[name];
    const host = await startHostProcess({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'heron-nokeychain-')), caFile: path.join(server.dir, 'ca.crt'), keychainService: testKeychainService, env });
    const api = await connectApi(host.url);
    try {
      const jid = await server.register('grace', 'grace-pw');
      await expect(api.invoke('accounts.add', { jid, password: 'grace-pw', host: server.host, port: server.port })).rejects.toThrow(
        /^Heron could not store the password: no system keychain is reachable\. .*install gnome-keyring or KWallet/,
      );
      expect(await api.invoke('accounts.list', {})).toEqual([]);
    } finally {
      api.close();
      await host.stop();
      await server.stop();
    }
  });
});
