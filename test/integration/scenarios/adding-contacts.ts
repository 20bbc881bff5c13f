// Adding contacts one after another on a real server: each of them gets our request, and a
// request the server refuses (ejabberd's mod_pres_counter, as Debian ships it) says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import type { ServerOptions, XmppTestServer } from '../../support/server-kit';
import { accountFor, startCore, type TestCore } from '../../support/cores';
import { connectRaw, nextStanza, type RawClient } from '../../support/raw-client';

/**
 * Runs against the server `start` gives (test/integration/adding-contacts*.test.ts).
 * `requestsPerMinute`: how many subscription presences the server lets a session send in a
 * minute, where it limits them.
 */
export function addingContactsScenario(start: (options?: ServerOptions) => Promise<XmppTestServer>, requestsPerMinute?: number): void {
  describe('adding contacts one after another', () => {
    let server: XmppTestServer;
    let alice: TestCore;
    let accountId: string;
    const contacts: RawClient[] = [];

    /** A new user, online, to be added. */
    async function newContact(n: number): Promise<RawClient> {
      const jid = await server.register(`contact${n}`, 'pw');
      const client = await connectRaw(server, jid, 'pw');
      await client.send(xml('presence'));
      contacts.push(client);
      return client;
    }
    const requestFromAlice = (client: RawClient) =>
      nextStanza(client, (s: Element) => s.is('presence') && s.attrs.type === 'subscribe' && s.attrs.from === `alice@${server.domain}`);

    beforeAll(async () => {
      server = await start();
      const aliceJid = await server.register('alice', 'a-pw');
      alice = await startCore({ server });
      accountId = (await alice.call('accounts.add', accountFor(server, aliceJid, 'a-pw'))).id;
      await alice.waitForState(accountId, (a) => a.connection.state === 'online' && !a.connection.syncing);
    });

    afterAll(async () => {
      for (const client of contacts) await client.stop();
      await alice?.core.close();
      await server?.stop();
      if (server) expect(server.ackShortfalls()).toEqual([]);
    });

    it('four added in a row each get my request', async () => {
      for (let n = 1; n <= 4; n++) {
        const contact = await newContact(n);
        const asked = requestFromAlice(contact);
        await alice.call('contacts.add', { accountId, jid: contact.jid });
        await asked;
      }
      const listed = await alice.call('contacts.list', { accountId });
      expect(listed.filter((c) => c.awaitingApproval).map((c) => c.jid).sort()).toEqual(contacts.map((c) => c.jid).sort());
    });

    // Only a server that limits subscription requests (ejabberd's mod_pres_counter) has this case.
    if (requestsPerMinute !== undefined) {
      it('past the server’s limit, adding says the request was refused', async () => {
        for (let n = contacts.length + 1; n <= requestsPerMinute; n++) {
          const contact = await newContact(n);
          const asked = requestFromAlice(contact);
          await alice.call('contacts.add', { accountId, jid: contact.jid });
          await asked;
        }
        const tooMany = await newContact(requestsPerMinute + 1);
        await expect(alice.call('contacts.add', { accountId, jid: tooMany.jid })).rejects.toMatchObject({
          error: { code: 'refused', message: expect.stringContaining(`${tooMany.jid} is in your contacts, but your server refused to send them your request`) },
        });
        expect((await alice.call('contacts.list', { accountId })).some((c) => c.jid === tooMany.jid)).toBe(true);
      });
    }
  });
}
