// The SASL exchange on a stream, replayed against a scripted server: the RFC 7677 example
// with the server's proof in <success/> or in a last challenge (RFC 6120 §6.3.10), and PLAIN.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import xml, { type Element } from '@xmpp/xml';
import type { Client } from '@xmpp/client-core';
import type { StreamFeatures } from '@xmpp/stream-features';
import { useSasl } from '../../main/core/xmpp/sasl';

const NS = 'urn:ietf:params:xml:ns:xmpp-sasl';
const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (element: Element) => Buffer.from(element.text(), 'base64').toString();

// RFC 7677 §3, user "user", password "pencil".
const NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

/** A stream whose server answers each element we send with the next scripted ones. */
function scriptedStream(secure: boolean, script: Array<(sent: Element) => Element[]>) {
  const sent: Element[] = [];
  let restarted = 0;
  const tlsSocket = {
    getProtocol: () => 'TLSv1.3',
    exportKeyingMaterial: () => Buffer.alloc(32),
    isSessionReused: () => false,
    getFinished: () => undefined,
    getPeerFinished: () => undefined,
    getPeerX509Certificate: () => undefined,
  };
  const entity = Object.assign(new EventEmitter(), {
    socket: secure ? { socket: tlsSocket } : null,
    isSecure: () => secure,
    async send(element: Element) {
      sent.push(element);
      const answers = script.shift()?.(element) ?? [];
      // Answers arrive as the parser emits them: later, one by one.
      setImmediate(() => answers.forEach((answer) => entity.emit('nonza', answer)));
    },
    async restart() {
      restarted++;
    },
  });
  let feature: ((ctx: { stanza: Element; entity: Client }) => Promise<void>) | undefined;
  const streamFeatures = { use: (_name: string, _ns: string, handler: typeof feature) => (feature = handler) } as unknown as StreamFeatures;
  return {
    streamFeatures,
    entity: entity as unknown as Client,
    sent,
    restarted: () => restarted,
    offer: (...mechanisms: string[]) =>
      feature!({
        stanza: xml('stream:features', { 'xmlns:stream': 'http://etherx.jabber.org/streams' }, xml('mechanisms', { xmlns: NS }, ...mechanisms.map((m) => xml('mechanism', {}, m)))),
        entity: entity as unknown as Client,
      }),
  };
}

function login(stream: ReturnType<typeof scriptedStream>, allowPlain = true) {
  const authenticated: string[] = [];
  useSasl(stream, {
    username: 'user',
    password: async () => 'pencil',
    account: { policy: () => ({ allowPlain }), authenticated: (mechanism) => authenticated.push(mechanism) },
    nonce: () => NONCE,
  });
  return authenticated;
}

const challenge = (text: string) => xml('challenge', { xmlns: NS }, b64(text));

describe('the SASL exchange', () => {
  it('replays RFC 7677 with the proof in <success/>, then restarts the stream', async () => {
    const stream = scriptedStream(false, [() => [challenge(SERVER_FIRST)], () => [xml('success', { xmlns: NS }, b64(SERVER_FINAL))]]);
    const authenticated = login(stream);
    await stream.offer('SCRAM-SHA-1', 'SCRAM-SHA-256');
    expect(stream.sent[0]!.attrs.mechanism).toBe('SCRAM-SHA-256');
    expect(unb64(stream.sent[0]!)).toBe(`n,,n=user,r=${NONCE}`);
    expect(unb64(stream.sent[1]!)).toBe(CLIENT_FINAL);
    expect(authenticated).toEqual(['SCRAM-SHA-256']);
    expect(stream.restarted()).toBe(1);
  });

  it('takes the proof from a last challenge, answered with an empty response', async () => {
    const stream = scriptedStream(false, [() => [challenge(SERVER_FIRST)], () => [challenge(SERVER_FINAL)], () => [xml('success', { xmlns: NS })]]);
    const authenticated = login(stream);
    await stream.offer('SCRAM-SHA-256');
    expect(stream.sent.map((e) => e.name)).toEqual(['auth', 'response', 'response']);
    expect(stream.sent[2]!.text()).toBe('');
    expect(authenticated).toEqual(['SCRAM-SHA-256']);
  });

  it('neither calls the login done nor restarts when the proof is wrong or the server says <failure/>', async () => {
    const wrong = scriptedStream(false, [() => [challenge(SERVER_FIRST)], () => [xml('success', { xmlns: NS }, b64('v=AAAA'))]]);
    const authenticated = login(wrong);
    await expect(wrong.offer('SCRAM-SHA-256')).rejects.toThrow(/could not prove it knows your password/);
    const refused = scriptedStream(false, [() => [challenge(SERVER_FIRST)], () => [xml('failure', { xmlns: NS }, xml('not-authorized'))]]);
    login(refused);
    await expect(refused.offer('SCRAM-SHA-256')).rejects.toMatchObject({ name: 'SASLError', condition: 'not-authorized' });
    expect(authenticated).toEqual([]);
    expect(wrong.restarted() + refused.restarted()).toBe(0);
  });

  it('sends PLAIN over TLS as RFC 4616 says, and nothing at all when PLAIN is refused', async () => {
    const stream = scriptedStream(true, [() => [xml('success', { xmlns: NS })]]);
    const authenticated = login(stream);
    await stream.offer('PLAIN');
    expect(unb64(stream.sent[0]!)).toBe('\0user\0pencil');
    expect(authenticated).toEqual(['PLAIN']);

    const refusing = scriptedStream(true, []);
    login(refusing, false);
    await expect(refusing.offer('PLAIN')).rejects.toMatchObject({ name: 'PlainRefusedError' });
    expect(refusing.sent).toEqual([]);
  });

  it('ends the wait with an error when the connection closes mid-login', async () => {
    const stream = scriptedStream(false, [() => []]);
    login(stream);
    const pending = stream.offer('SCRAM-SHA-1');
    setImmediate(() => (stream.entity as unknown as EventEmitter).emit('disconnect'));
    await expect(pending).rejects.toThrow('The connection closed during the login.');
  });
});
