// Which login Heron picks from a server's offer, the channel binding it sends, how a refusal
// reads to the user, and what the archive remembers per account.
import fs from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import xml from '@xmpp/xml';
import { chooseLogin, parseOffer, PlainRefusedError, NoMechanismError, type Offer } from '../../main/core/xmpp/sasl/mechanisms';
import { bindingData, serverEndPoint, type TlsChannel } from '../../main/core/xmpp/sasl/channel-binding';
import { SaslFailure } from '../../main/core/xmpp/sasl';
import { ScramError } from '../../main/core/xmpp/sasl/scram';
import { classifyFailure } from '../../main/core/accounts/failures';
import { ACCOUNT, OTHER_ACCOUNT, makeArchive, type ArchiveFixture } from './archive-support';

const NS = 'urn:ietf:params:xml:ns:xmpp-sasl';
// An ECDSA-with-SHA256 certificate (test/fixtures/certificates).
const fixture = new X509Certificate(fs.readFileSync(new URL('../fixtures/certificates/chat.example.org.pem', import.meta.url))).raw;

function channel(protocol: 'TLSv1.3' | 'TLSv1.2', over: Partial<TlsChannel> = {}): TlsChannel {
  return {
    protocol,
    exportKeyingMaterial: (length, label) => Buffer.from(`${label}:${length}`),
    finished: () => Buffer.from('finished'),
    certificate: () => fixture,
    ...over,
  };
}

const offer = (mechanisms: string[], bindings: string[] | null = null): Offer => ({ mechanisms, bindings });
const allow = { allowPlain: true };
const refuse = { allowPlain: false };

describe('parseOffer', () => {
  it('reads the mechanisms and the XEP-0440 binding types beside or inside <mechanisms/>', () => {
    const mechanisms = xml('mechanisms', { xmlns: NS }, xml('mechanism', {}, 'SCRAM-SHA-1'), xml('mechanism', {}, ' PLAIN '), xml('mechanism', {}, ''));
    const announced = xml('sasl-channel-binding', { xmlns: 'urn:xmpp:sasl-cb:0' }, xml('channel-binding', { type: 'tls-server-end-point' }), xml('channel-binding', { type: 'tls-exporter' }));
    const beside = xml('stream:features', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, mechanisms, announced);
    expect(parseOffer(beside)).toEqual({ mechanisms: ['SCRAM-SHA-1', 'PLAIN'], bindings: ['tls-server-end-point', 'tls-exporter'] });
    const inside = xml('stream:features', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, xml('mechanisms', { xmlns: NS }, xml('mechanism', {}, 'PLAIN'), announced));
    expect(parseOffer(inside).bindings).toEqual(['tls-server-end-point', 'tls-exporter']);
    expect(parseOffer(xml('stream:features', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, mechanisms)).bindings).toBeNull();
  });
});

describe('chooseLogin', () => {
  it('prefers channel-bound SCRAM, then SCRAM-SHA-256 over SHA-1, and PLAIN last', () => {
    const all = ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-256-PLUS'];
    expect(chooseLogin(offer(all, ['tls-exporter']), channel('TLSv1.3'), allow)).toMatchObject({ mechanism: 'SCRAM-SHA-256-PLUS', binding: { flag: 'p', type: 'tls-exporter' } });
    expect(chooseLogin(offer(['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256'], ['tls-exporter']), channel('TLSv1.3'), allow).mechanism).toBe('SCRAM-SHA-1-PLUS');
    expect(chooseLogin(offer(['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256']), channel('TLSv1.3'), allow)).toEqual({
      kind: 'scram',
      mechanism: 'SCRAM-SHA-256',
      hash: 'SHA-256',
      binding: { flag: 'y' },
    });
    expect(chooseLogin(offer(['PLAIN', 'SCRAM-SHA-1']), channel('TLSv1.3'), allow).mechanism).toBe('SCRAM-SHA-1');
    expect(chooseLogin(offer(['PLAIN']), channel('TLSv1.3'), allow)).toEqual({ kind: 'plain', mechanism: 'PLAIN' });
  });

  it('binds with the tls-exporter data when announced on TLS 1.3', () => {
    const plus = offer(['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1'], ['tls-exporter']);
    expect(chooseLogin(plus, channel('TLSv1.3'), allow)).toMatchObject({ binding: { type: 'tls-exporter', data: Buffer.from('EXPORTER-Channel-Binding:32') } });
  });

  it('takes a server that names no binding type to mean tls-unique: bound on TLS 1.2, unbound (n) on TLS 1.3', () => {
    const plus = offer(['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1']);
    expect(chooseLogin(plus, channel('TLSv1.2'), allow)).toMatchObject({ mechanism: 'SCRAM-SHA-1-PLUS', binding: { type: 'tls-unique', data: Buffer.from('finished') } });
    // As ejabberd 23.01 offers it: -PLUS on TLS 1.3, where tls-unique does not exist.
    expect(chooseLogin(plus, channel('TLSv1.3'), allow)).toEqual({ kind: 'scram', mechanism: 'SCRAM-SHA-1', hash: 'SHA-1', binding: { flag: 'n' } });
  });

  it('takes the preferred announced binding Node can produce; with none in common, unbound SCRAM with flag n', () => {
    const plus = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'];
    // tls-exporter is not sound on TLS 1.2 (no way to know the extended master secret was used).
    expect(chooseLogin(offer(plus, ['tls-exporter', 'tls-server-end-point']), channel('TLSv1.2'), allow)).toMatchObject({
      mechanism: 'SCRAM-SHA-256-PLUS',
      binding: { type: 'tls-server-end-point', data: createHash('sha256').update(fixture).digest() },
    });
    expect(chooseLogin(offer(plus, ['tls-unique']), channel('TLSv1.3'), allow)).toEqual({ kind: 'scram', mechanism: 'SCRAM-SHA-256', hash: 'SHA-256', binding: { flag: 'n' } });
    expect(chooseLogin(offer(plus, ['something-new']), channel('TLSv1.3'), allow)).toMatchObject({ binding: { flag: 'n' } });
  });

  it('refuses PLAIN for an account that used SCRAM, and PLAIN without TLS', () => {
    expect(() => chooseLogin(offer(['PLAIN']), channel('TLSv1.3'), refuse)).toThrow(PlainRefusedError);
    expect(() => chooseLogin(offer(['PLAIN']), undefined, allow)).toThrow(NoMechanismError);
    // SCRAM on offer: the policy about PLAIN does not matter.
    expect(chooseLogin(offer(['PLAIN', 'SCRAM-SHA-1']), channel('TLSv1.3'), refuse).mechanism).toBe('SCRAM-SHA-1');
  });

  it('says what was offered when nothing fits', () => {
    expect(() => chooseLogin(offer(['DIGEST-MD5', 'X-OAUTH2']), channel('TLSv1.3'), allow)).toThrow(
      'The server offers no login method Heron supports (DIGEST-MD5, X-OAUTH2).',
    );
    expect(() => chooseLogin(offer([]), channel('TLSv1.3'), allow)).toThrow('(none)');
  });
});

describe('channel-binding data', () => {
  it('hashes the server certificate with its signature hash (RFC 5929 §4.1), and refuses what it cannot parse', () => {
    expect(serverEndPoint(fixture)).toEqual(createHash('sha256').update(fixture).digest());
    expect(serverEndPoint(Buffer.from([0x30, 0x82, 0xff]))).toBeUndefined();
    expect(serverEndPoint(Buffer.alloc(0))).toBeUndefined();
  });

  it('gives no tls-unique on TLS 1.3 and no tls-exporter on TLS 1.2', () => {
    expect(bindingData('tls-unique', channel('TLSv1.3'))).toBeUndefined();
    expect(bindingData('tls-exporter', channel('TLSv1.2'))).toBeUndefined();
    expect(bindingData('tls-server-end-point', channel('TLSv1.3', { certificate: () => undefined }))).toBeUndefined();
  });
});

describe('refusals as the user reads them', () => {
  it('PLAIN after SCRAM is an auth failure the user may lift, never retried', () => {
    expect(classifyFailure(new PlainRefusedError())).toEqual({
      state: 'auth-failed',
      reason: expect.stringMatching(/only a login that shows it your password \(PLAIN\)/),
      retry: false,
      plainRefused: true,
    });
  });

  it('a server failing its proof is an auth failure in its own words; a server <failure/> keeps its condition', () => {
    const forged = new ScramError('The server could not prove it knows your password: someone may be intercepting the connection.');
    expect(classifyFailure(forged)).toEqual({ state: 'auth-failed', reason: forged.message, retry: false });
    const failure = SaslFailure.fromElement(xml('failure', { xmlns: NS }, xml('not-authorized'), xml('text', {}, 'nope')));
    expect(classifyFailure(failure)).toEqual({ state: 'auth-failed', reason: 'Wrong address or password. (nope)', retry: false });
    const later = SaslFailure.fromElement(xml('failure', { xmlns: NS }, xml('temporary-auth-failure')));
    expect(classifyFailure(later)).toMatchObject({ state: 'error', retry: true });
    expect(classifyFailure(new NoMechanismError(['X-OAUTH2']))).toMatchObject({ state: 'error', retry: false });
  });
});

describe('archive: how each account logged in', () => {
  let fixtureArchive: ArchiveFixture;
  afterEach(() => fixtureArchive?.close());

  it('allows PLAIN until SCRAM worked, again once the user allows it, and not after the next SCRAM login', () => {
    fixtureArchive = makeArchive();
    const { archive } = fixtureArchive;
    expect(archive.accounts.plainAllowed(ACCOUNT)).toBe(true);
    archive.accounts.noteScramLogin(ACCOUNT);
    expect(archive.accounts.plainAllowed(ACCOUNT)).toBe(false);
    expect(archive.accounts.plainAllowed(OTHER_ACCOUNT)).toBe(true);
    archive.accounts.allowPlain(ACCOUNT);
    expect(archive.accounts.plainAllowed(ACCOUNT)).toBe(true);
    archive.accounts.noteScramLogin(ACCOUNT);
    expect(archive.accounts.plainAllowed(ACCOUNT)).toBe(false);
  });
});
