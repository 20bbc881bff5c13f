// The roster and subscription features against a real archive and a recording session:
// which requests reach the list, and what a roster push from whom may change.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Element } from '@xmpp/xml';
import parse from '@xmpp/xml/lib/parse.js';
import { Archive } from '../../main/core/archive/archive';
import { openDatabase } from '../../main/core/archive/database';
import type { FeatureContext } from '../../main/core/features/feature';
import { Hooks } from '../../main/core/features/hooks';
import { PresenceFeature } from '../../main/core/features/presence';
import { RosterFeature } from '../../main/core/features/roster';
import { SubscriptionsFeature } from '../../main/core/features/subscriptions';
import type { Session } from '../../main/core/xmpp/session';
import type { EventName } from '../../preload/contract';

const ACCOUNT = '00000000-0000-4000-8000-000000000001';
const OWN = 'alice@heron.test';

describe('roster and subscription features', () => {
  let dir: string;
  let archive: Archive;
  let roster: RosterFeature;
  let subscriptions: SubscriptionsFeature;
  let sent: Element[];
  let events: Array<{ event: EventName; payload: unknown }>;
  let pushHandler: (context: { stanza: Element }) => unknown;
  let session: Session;
  /** Origin checks the features registered to run before anything answers. */
  let refusals: Array<(stanza: Element) => boolean>;

  beforeEach(() => {
    refusals = [];
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'heron-contacts-'));
    archive = new Archive(openDatabase(path.join(dir, 'heron.sqlite')));
    archive.accounts.insert({ id: ACCOUNT, jid: OWN, host: null, port: null, resource: 'r', enabled: true });
    sent = [];
    events = [];
    session = {
      entity: { send: async (stanza: Element) => void sent.push(stanza), on: () => {} },
      iqCallee: { set: (_ns: string, _name: string, handler: typeof pushHandler) => (pushHandler = handler) },
      refuseIncoming: (refuses: (stanza: Element) => boolean) => void refusals.push(refuses),
    } as unknown as Session;
    const ctx: FeatureContext = {
      accountId: ACCOUNT,
      bare: OWN,
      archive,
      emit: (event, payload) => void events.push({ event, payload }),
      log: () => {},
      clock: { now: () => 1_700_000_000_000, random: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
      liveSession: () => session,
      hooks: new Hooks(() => {}),
    };
    roster = new RosterFeature(ctx, new PresenceFeature(ctx));
    subscriptions = new SubscriptionsFeature(ctx, roster);
    roster.wire(session);
  });

  afterEach(() => {
    archive.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const receive = (xml: string) => subscriptions.stanza(parse(xml), session);
  const push = (xml: string) => pushHandler({ stanza: parse(xml) });
  const requestEvents = () => events.filter((e) => e.event === 'requests.changed').length;

  it('lists a stranger’s request once, however often it is delivered', () => {
    receive(`<presence type="subscribe" from="carol@heron.test"><status>hi</status></presence>`);
    receive(`<presence type="subscribe" from="carol@heron.test"><status>hi</status></presence>`);
    expect(subscriptions.list()).toEqual([{ accountId: ACCOUNT, jid: 'carol@heron.test', status: 'hi', receivedAt: 1_700_000_000_000 }]);
    expect(requestEvents()).toBe(1);
    expect(sent).toEqual([]);
  });

  it('answers contacts who already see us, or whom we pre-approved, without listing them', () => {
    archive.roster.upsert(ACCOUNT, { jid: 'bob@heron.test', subscription: 'from', groups: [] });
    archive.roster.upsert(ACCOUNT, { jid: 'dave@heron.test', subscription: 'none', groups: [], approved: true });
    receive(`<presence type="subscribe" from="bob@heron.test"/>`);
    receive(`<presence type="subscribe" from="dave@heron.test"/>`);
    expect(subscriptions.list()).toEqual([]);
    expect(sent.map((s) => s.toString())).toEqual([
      '<presence to="bob@heron.test" type="subscribed"/>',
      '<presence to="dave@heron.test" type="subscribed"/>',
    ]);
  });

  it('ignores a request from our own account', () => {
    receive(`<presence type="subscribe" from="alice@heron.test/phone"/>`);
    expect(subscriptions.list()).toEqual([]);
  });

  it('drops a request that is withdrawn, or approved on another device', () => {
    receive(`<presence type="subscribe" from="carol@heron.test"/>`);
    receive(`<presence type="unsubscribe" from="carol@heron.test"/>`);
    receive(`<presence type="subscribe" from="erin@heron.test"/>`);
    expect(subscriptions.list().map((r) => r.jid)).toEqual(['erin@heron.test']);
    push(`<iq type="set" id="p1"><query xmlns="jabber:iq:roster" ver="7"><item jid="erin@heron.test" subscription="from"/></query></iq>`);
    expect(subscriptions.list()).toEqual([]);
    expect(archive.sync.getRosterVersion(ACCOUNT)).toBe('7');
  });

  it('lets only our own account push roster changes', () => {
    push(`<iq type="set" id="p1" from="mallory@evil.test"><query xmlns="jabber:iq:roster" ver="9"><item jid="mallory@evil.test" subscription="both"/></query></iq>`);
    expect(roster.contacts()).toEqual([]);
    expect(archive.sync.getRosterVersion(ACCOUNT)).toBeNull();
    push(`<iq type="set" id="p2" from="alice@heron.test"><query xmlns="jabber:iq:roster" ver="10"><item jid="bob@heron.test" ask="subscribe"/></query></iq>`);
    expect(roster.contacts()).toEqual([
      { accountId: ACCOUNT, jid: 'bob@heron.test', subscription: 'none', groups: [], awaitingApproval: true, presence: { show: 'offline' } },
    ]);
  });
});
