import { describe, expect, it } from 'vitest';
import parse from '@xmpp/xml/lib/parse.js';
import { capsElement, capsHash, discoInfoAnswer, parseCaps, parseDiscoInfo, type DiscoInfo } from '../../main/core/xmpp/disco';

function info(xml: string): DiscoInfo {
  const parsed = parseDiscoInfo(parse(xml));
  if (parsed.kind !== 'info') throw new Error(parsed.reason);
  return parsed.info;
}

describe('entity capabilities hash (XEP-0115 §5)', () => {
  it('reproduces the simple example of §5.2', () => {
    const exodus = info(`<query xmlns="http://jabber.org/protocol/disco#info" node="http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0=">
      <identity category="client" name="Exodus 0.9.1" type="pc"/>
      <feature var="http://jabber.org/protocol/caps"/>
      <feature var="http://jabber.org/protocol/disco#info"/>
      <feature var="http://jabber.org/protocol/disco#items"/>
      <feature var="http://jabber.org/protocol/muc"/></query>`);
    expect(capsHash(exodus)).toBe('QgayPKawpkPSDYmwT/WM94uAlu0=');
  });

  it('reproduces the complex example of §5.3: languages, an extended form, values out of order', () => {
    const psi = info(`<query xmlns="http://jabber.org/protocol/disco#info" node="http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w=">
      <identity xml:lang="en" category="client" name="Psi 0.11" type="pc"/>
      <identity xml:lang="el" category="client" name="Ψ 0.11" type="pc"/>
      <feature var="http://jabber.org/protocol/muc"/>
      <feature var="http://jabber.org/protocol/disco#info"/>
      <feature var="http://jabber.org/protocol/caps"/>
      <feature var="http://jabber.org/protocol/disco#items"/>
      <x xmlns="jabber:x:data" type="result">
        <field var="software_version"><value>0.11</value></field>
        <field var="FORM_TYPE" type="hidden"><value>urn:xmpp:dataforms:softwareinfo</value></field>
        <field var="ip_version" type="text-multi"><value>ipv6</value><value>ipv4</value></field>
        <field var="os"><value>Mac</value></field>
        <field var="os_version"><value>10.5.1</value></field>
        <field var="software"><value>Psi</value></field>
      </x></query>`);
    expect(capsHash(psi)).toBe('q07IKJEyjvHSyhy//CH0CxmKi8w=');
  });

  it('refuses answers that could hash to something they do not describe (§5.4)', () => {
    const q = (body: string) => parseDiscoInfo(parse(`<query xmlns="http://jabber.org/protocol/disco#info">${body}</query>`));
    const id = `<identity category="client" type="pc" name="X"/>`;
    expect(q(`${id}${id}`)).toMatchObject({ kind: 'rejected', reason: 'duplicate identity' });
    expect(q(`${id}<feature var="a"/><feature var="a"/>`)).toMatchObject({ kind: 'rejected', reason: 'duplicate feature' });
    const form = (type: string) =>
      `<x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>${type}</value></field></x>`;
    expect(q(`${id}${form('urn:a')}${form('urn:a')}`)).toMatchObject({ kind: 'rejected', reason: 'duplicate form type' });
    expect(
      q(`${id}<x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>a</value><value>b</value></field></x>`),
    ).toMatchObject({ kind: 'rejected' });
    expect(q(`<identity category="client"/>`)).toMatchObject({ kind: 'rejected' });
    expect(parseDiscoInfo(parse(`<query xmlns="jabber:iq:roster"/>`)).kind).toBe('rejected');
    // A form whose FORM_TYPE is not hidden is left out of the hash, not fatal.
    const visible = q(`${id}<x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE"><value>urn:a</value></field></x>`);
    expect(visible).toMatchObject({ kind: 'info', info: { forms: [] } });
  });

  it('reads only SHA-1 caps with a well-formed hash from presence', () => {
    const presence = (c: string) => parse(`<presence from="bob@heron.test/x">${c}</presence>`);
    expect(parseCaps(presence(`<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://x.org" ver="QgayPKawpkPSDYmwT/WM94uAlu0="/>`))).toEqual({
      node: 'https://x.org',
      ver: 'QgayPKawpkPSDYmwT/WM94uAlu0=',
    });
    expect(parseCaps(presence(`<c xmlns="http://jabber.org/protocol/caps" hash="md5" node="n" ver="QgayPKawpkPSDYmwT/WM94uAlu0="/>`))).toBeUndefined();
    expect(parseCaps(presence(`<c xmlns="http://jabber.org/protocol/caps" node="n" ver="1.0" ext="legacy"/>`))).toBeUndefined();
    expect(parseCaps(presence(`<c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="n" ver="../../etc"/>`))).toBeUndefined();
    expect(parseCaps(presence(''))).toBeUndefined();
  });

  it('our own answer hashes to the caps we advertise', () => {
    const ours: DiscoInfo = {
      identities: [{ category: 'client', type: 'pc', name: 'Heron' }],
      features: ['urn:xmpp:receipts', 'http://jabber.org/protocol/disco#info'],
      forms: [],
    };
    const ver = capsHash(ours);
    const answer = discoInfoAnswer(ours, `https://heron.example.org#${ver}`);
    expect(answer.attrs.node).toBe(`https://heron.example.org#${ver}`);
    expect(capsHash(info(answer.toString()))).toBe(ver);
    expect(capsElement({ node: 'https://heron.example.org', ver }).attrs).toMatchObject({ hash: 'sha-1', ver });
  });
});
