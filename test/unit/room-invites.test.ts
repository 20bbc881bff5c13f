// Room invitations (XEP-0249 direct, XEP-0045 §7.8 mediated) with hostile fixtures: who may
// invite from where, and what the stanzas we send say.
import { describe, expect, it } from 'vitest';
import parse from '@xmpp/xml/lib/parse.js';
import { declineInvite, directInvite, parseInvite } from '../../main/core/xmpp/muc';

const me = 'hecate@shakespeare.lit';
const room = 'darkcave@chat.shakespeare.lit';

describe('parseInvite', () => {
  it('reads a direct invitation from a user, with reason and password', () => {
    const stanza = parse(`<message from='crone1@shakespeare.lit/desktop' to='${me}'><x xmlns='jabber:x:conference' jid='DarkCave@chat.shakespeare.lit' password='cauldronburn' reason='Hey Hecate, this is the place for all good witches!'/></message>`);
    expect(parseInvite(stanza, me)).toEqual({
      kind: 'invite',
      via: 'direct',
      room,
      inviter: 'crone1@shakespeare.lit',
      reason: 'Hey Hecate, this is the place for all good witches!',
      password: 'cauldronburn',
    });
  });

  it('reads a mediated invitation the room forwards, naming the inviter', () => {
    const stanza = parse(
      `<message from='${room}' to='${me}'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='crone1@shakespeare.lit/desktop'><reason>Hey Hecate</reason></invite><password>cauldronburn</password></x></message>`,
    );
    expect(parseInvite(stanza, me)).toEqual({ kind: 'invite', via: 'mediated', room, inviter: 'crone1@shakespeare.lit', reason: 'Hey Hecate', password: 'cauldronburn' });
  });

  it('refuses a mediated invitation not sent by a room: from an occupant or from a user’s device', () => {
    for (const from of [`${room}/thirdwitch`, 'mallory@evil.example/phone', 'evil.example']) {
      const stanza = parse(`<message from='${from}' to='${me}'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='crone1@shakespeare.lit'/></x></message>`);
      expect(parseInvite(stanza, me)).toMatchObject({ kind: 'rejected' });
    }
  });

  it('refuses a mediated invitation that does not say who invites, or comes as room chatter or an error', () => {
    expect(parseInvite(parse(`<message from='${room}'><x xmlns='http://jabber.org/protocol/muc#user'><invite/></x></message>`), me)).toMatchObject({ kind: 'rejected' });
    for (const type of ['groupchat', 'error']) {
      const stanza = parse(`<message type='${type}' from='${room}'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='crone1@shakespeare.lit'/></x></message>`);
      expect(parseInvite(stanza, me)).toMatchObject({ kind: 'rejected' });
    }
  });

  it('reads a direct invitation from a stranger as an invitation (who is a contact is decided on arrival), but not one without a room or naming an occupant', () => {
    const stranger = parse(`<message from='mallory@evil.example/bot'><x xmlns='jabber:x:conference' jid='${room}'/></message>`);
    expect(parseInvite(stranger, me)).toEqual({ kind: 'invite', via: 'direct', room, inviter: 'mallory@evil.example' });
    for (const jid of ['', 'chat.shakespeare.lit', `${room}/nick`]) {
      expect(parseInvite(parse(`<message from='crone1@shakespeare.lit/desktop'><x xmlns='jabber:x:conference' jid='${jid}'/></message>`), me)).toMatchObject({ kind: 'rejected' });
    }
  });

  it('refuses invitations from our own account, and leaves messages without one alone', () => {
    expect(parseInvite(parse(`<message from='${me}/laptop'><x xmlns='jabber:x:conference' jid='${room}'/></message>`), me)).toMatchObject({ kind: 'rejected' });
    expect(parseInvite(parse(`<message from='${room}'><x xmlns='http://jabber.org/protocol/muc#user'><status code='104'/></x></message>`), me)).toBeUndefined();
    expect(parseInvite(parse(`<message from='crone1@shakespeare.lit/desktop'><body>hi</body></message>`), me)).toBeUndefined();
  });

  it('keeps a huge reason to a readable length, and drops a blank one', () => {
    const long = parseInvite(parse(`<message from='crone1@shakespeare.lit/d'><x xmlns='jabber:x:conference' jid='${room}' reason='${'a'.repeat(5000)}'/></message>`), me);
    expect(long).toMatchObject({ kind: 'invite' });
    expect((long as { reason: string }).reason).toHaveLength(1000);
    const blank = parseInvite(parse(`<message from='crone1@shakespeare.lit/d'><x xmlns='jabber:x:conference' jid='${room}' reason='   '/></message>`), me);
    expect(blank).not.toHaveProperty('reason');
  });
});

describe('invitation stanzas', () => {
  it('a direct invitation goes to the invitee and names the room', () => {
    expect(directInvite('bob@example.org', room, 'Join us', 'pw').toString()).toBe(
      `<message to="bob@example.org"><x xmlns="jabber:x:conference" jid="${room}" reason="Join us" password="pw"/></message>`,
    );
  });
  it('a decline of a mediated invitation goes to the room, naming the inviter', () => {
    expect(declineInvite(room, 'crone1@shakespeare.lit', 'busy').toString()).toBe(
      `<message to="${room}"><x xmlns="http://jabber.org/protocol/muc#user"><decline to="crone1@shakespeare.lit"><reason>busy</reason></decline></x></message>`,
    );
  });
});
