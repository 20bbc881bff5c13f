// Our presence as contacts see it, and theirs as we see it, against a real Prosody.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import { startProsody, type TestServer } from '../support/prosody';
import { accountFor, startCore, type TestCore } from '../support/cores';
import { befriend, connectRaw, nextStanza, type RawClient } from '../support/raw-client';

describe('presence with a real server', () => {
  let server: TestServer;
  let alice: TestCore;
  let bobPhone: RawClient;
  let aliceId: string;
  let carolId: string;
  const jids: Record<string, string> = {};

  const fromAlice = (s: Element) => s.is('presence') && Boolean(s.attrs.from?.startsWith(`${jids.alice}/heron-`)) && s.attrs.type === undefined;
  const shown = (s: Element) => ({ show: s.getChildText('show'), status: s.getChildText('status') });

  beforeAll(async () => {
    server = await startProsody();
    for (const local of ['alice', 'bob', 'carol']) jids[local] = await server.register(local, `${local}-pw`);
    await befriend(server, { jid: jids.alice!, password: 'alice-pw' }, { jid: jids.bob!, password: 'bob-pw' });
    bobPhone = await connectRaw(server, jids.bob!, 'bob-pw', 'phone');
    await bobPhone.send(xml('presence', {}, xml('idle', { xmlns: 'urn:xmpp:idle:1', since: '2024-03-01T08:30:00Z' })));
    alice = await startCore({ server });
    const seen = nextStanza(bobPhone, fromAlice);
    aliceId = (await alice.call('accounts.add', accountFor(server, jids.alice!, 'alice-pw'))).id;
    carolId = (await alice.call('accounts.add', accountFor(server, jids.carol!, 'carol-pw'))).id;
    expect(shown(await seen)).toEqual({ show: null, status: null });
  });

  afterAll(async () => {
    await bobPhone?.stop();
    await alice?.core.close();
    await server?.stop();
  });

  it('shows a contact idle since the time their device gives (XEP-0319)', async () => {
    const changed = await alice.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === jids.bob && x.presence.show === 'available'));
    expect(changed.contacts.find((x) => x.jid === jids.bob)?.presence).toEqual({ show: 'available', idleSince: Date.parse('2024-03-01T08:30:00Z') });
    await bobPhone.send(xml('presence'));
    await alice.waitFor('contacts.changed', (c) => c.contacts.some((x) => x.jid === jids.bob && x.presence.show === 'available' && x.presence.idleSince === undefined));
  });

  it('do not disturb with a status reaches a contact now, and again after a restart', async () => {
    const seen = nextStanza(bobPhone, fromAlice);
    const [view] = await alice.call('presence.set', { accountId: aliceId, show: 'dnd', status: '  In a meeting  ' });
    expect(view).toMatchObject({ id: aliceId, presence: { show: 'dnd', status: 'In a meeting' } });
    expect(shown(await seen)).toEqual({ show: 'dnd', status: 'In a meeting' });
    // Only alice's account changed.
    expect((await alice.call('accounts.list', {})).find((a) => a.id === carolId)?.presence).toEqual({ show: 'available' });

    await alice.core.close();
    const again = nextStanza(bobPhone, fromAlice);
    alice = await startCore({ server, dataDir: alice.dataDir });
    expect(shown(await again)).toEqual({ show: 'dnd', status: 'In a meeting' });
    expect((await alice.call('accounts.list', {})).find((a) => a.id === aliceId)?.presence).toEqual({ show: 'dnd', status: 'In a meeting' });
  });

  it('sets every account at once, and an empty status clears it', async () => {
    await alice.waitForState(aliceId, (a) => a.connection.state === 'online');
    const seen = nextStanza(bobPhone, fromAlice);
    const views = await alice.call('presence.set', { show: 'away', status: ' ' });
    expect(views.map((v) => [v.jid, v.presence])).toEqual([
      [jids.alice, { show: 'away' }],
      [jids.carol, { show: 'away' }],
    ]);
    expect(shown(await seen)).toEqual({ show: 'away', status: null });
    await alice.waitFor('account.changed', (a) => a.id === carolId && a.presence.show === 'away');
  });

  it('refuses a presence the contract does not know', async () => {
    await expect(alice.call('presence.set', { show: 'invisible' as 'away' })).rejects.toMatchObject({ error: { code: 'invalid-payload', field: 'show' } });
  });
});
