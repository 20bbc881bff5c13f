// Service discovery (XEP-0030) and entity capabilities (XEP-0115): our disco#info answer, the
// caps element our presence carries, caps read from others' presence, and the verification
// string, so a contact's features are cached only when they hash to what was advertised.
import { createHash } from 'node:crypto';
import xml, { type Element } from '@xmpp/xml';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_CAPS = 'http://jabber.org/protocol/caps';
const NS_DATA = 'jabber:x:data';

export type Identity = { category: string; type: string; name?: string; lang?: string };
/** An extended info form (XEP-0128) as far as the caps hash needs it. */
export type InfoForm = { formType: string; fields: Array<{ var: string; values: string[] }> };
export type DiscoInfo = { identities: Identity[]; features: string[]; forms: InfoForm[] };
export type Caps = { node: string; ver: string };

export type ParsedInfo = { kind: 'info'; info: DiscoInfo } | { kind: 'rejected'; reason: string };

/** i;octet ordering (XEP-0115 §5.1): by UTF-8 bytes, not by UTF-16 code units. */
function octetSort(values: Iterable<string>): string[] {
  return [...values].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/** The XEP-0115 §5.1 verification string, SHA-1, base64. */
export function capsHash(info: DiscoInfo): string {
  let s = '';
  for (const identity of octetSort(info.identities.map((i) => `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`))) s += `${identity}<`;
  for (const feature of octetSort(info.features)) s += `${feature}<`;
  const forms = new Map(info.forms.map((f) => [f.formType, f]));
  for (const formType of octetSort(forms.keys())) {
    s += `${formType}<`;
    const fields = new Map(forms.get(formType)!.fields.map((f) => [f.var, f.values]));
    for (const name of octetSort(fields.keys())) {
      s += `${name}<`;
      for (const value of octetSort(fields.get(name)!)) s += `${value}<`;
    }
  }
  return createHash('sha1').update(s, 'utf8').digest('base64');
}

function parseForm(x: Element): InfoForm | 'ignore' | 'ill-formed' {
  const fields = x.getChildren('field');
  const formTypes = fields.filter((f) => f.attrs.var === 'FORM_TYPE');
  if (formTypes.length === 0) return 'ignore';
  if (formTypes.length > 1) return 'ill-formed';
  const typeField = formTypes[0]!;
  if (typeField.attrs.type !== 'hidden') return 'ignore'; // §5.4: such a form is left out of the hash
  const typeValues = new Set(typeField.getChildren('value').map((v) => v.text()));
  if (typeValues.size !== 1) return 'ill-formed';
  const rest = fields.filter((f) => f !== typeField && f.attrs.var);
  if (new Set(rest.map((f) => f.attrs.var)).size !== rest.length) return 'ill-formed';
  return {
    formType: [...typeValues][0]!,
    fields: rest.map((f) => ({ var: f.attrs.var!, values: f.getChildren('value').map((v) => v.text()) })),
  };
}

/**
 * A disco#info `<query/>`. Duplicate identities, features or form types make the whole answer
 * ill-formed (XEP-0115 §5.4): such an answer could hash to something it does not describe.
 */
export function parseDiscoInfo(query: Element | undefined): ParsedInfo {
  if (!query?.is('query', NS_DISCO_INFO)) return { kind: 'rejected', reason: 'not a disco#info answer' };
  const identities: Identity[] = [];
  for (const el of query.getChildren('identity')) {
    const { category, type, name } = el.attrs;
    const lang = el.attrs['xml:lang'];
    if (!category || !type) return { kind: 'rejected', reason: 'identity without category or type' };
    identities.push({ category, type, ...(name ? { name } : {}), ...(lang ? { lang } : {}) });
  }
  const identityKeys = identities.map((i) => `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`);
  if (new Set(identityKeys).size !== identityKeys.length) return { kind: 'rejected', reason: 'duplicate identity' };
  const features = query.getChildren('feature').map((f) => f.attrs.var ?? '');
  if (features.includes('')) return { kind: 'rejected', reason: 'feature without var' };
  if (new Set(features).size !== features.length) return { kind: 'rejected', reason: 'duplicate feature' };
  const forms: InfoForm[] = [];
  for (const x of query.getChildren('x', NS_DATA)) {
    const form = parseForm(x);
    if (form === 'ill-formed') return { kind: 'rejected', reason: 'ill-formed extended info form' };
    if (form !== 'ignore') forms.push(form);
  }
  if (new Set(forms.map((f) => f.formType)).size !== forms.length) return { kind: 'rejected', reason: 'duplicate form type' };
  return { kind: 'info', info: { identities, features, forms } };
}

/** The caps a presence advertises, when it uses the SHA-1 hash we can verify. */
export function parseCaps(presence: Element): Caps | undefined {
  const c = presence.getChild('c', NS_CAPS);
  const { hash, node, ver } = c?.attrs ?? {};
  if (hash !== 'sha-1' || !node || !ver || !/^[A-Za-z0-9+/]{27}=$/.test(ver)) return undefined;
  return { node, ver };
}

export function discoInfoQuery(node?: string): Element {
  return xml('query', { xmlns: NS_DISCO_INFO, ...(node ? { node } : {}) });
}

/** Our own answer; we publish no extended info forms, so none are written. */
export function discoInfoAnswer(info: Omit<DiscoInfo, 'forms'>, node?: string): Element {
  return xml(
    'query',
    { xmlns: NS_DISCO_INFO, ...(node ? { node } : {}) },
    ...info.identities.map((i) =>
      xml('identity', { category: i.category, type: i.type, ...(i.name ? { name: i.name } : {}), ...(i.lang ? { 'xml:lang': i.lang } : {}) }),
    ),
    ...info.features.map((f) => xml('feature', { var: f })),
  );
}

export function capsElement(caps: Caps): Element {
  return xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: caps.node, ver: caps.ver });
}
