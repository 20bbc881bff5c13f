// In-band registration (XEP-0077): the server's form, as a data form (XEP-0004) when it offers
// one, else its legacy fields; what we submit; and its refusals in words. Pure functions.
import xml, { type Element } from '@xmpp/xml';
import type { FormField, RegistrationForm } from '../../../preload/contract';

export const NS_REGISTER = 'jabber:iq:register';
export const NS_REGISTER_FEATURE = 'http://jabber.org/features/iq-register';
const NS_DATA = 'jabber:x:data';

/** XEP-0077 §14.1: the legacy fields and how we name them; others are shown by their own name. */
const LEGACY_LABELS: Record<string, string> = {
  username: 'Username',
  password: 'Password',
  email: 'Email',
  nick: 'Nickname',
  name: 'Full name',
  first: 'First name',
  last: 'Last name',
  address: 'Address',
  city: 'City',
  state: 'State',
  zip: 'Postal code',
  phone: 'Phone',
  url: 'Web address',
  date: 'Date',
  misc: 'Other',
  text: 'Text',
};
/** Legacy children that are not fields to fill. */
const NOT_FIELDS = new Set(['instructions', 'registered', 'x', 'remove']);
const FIELD_TYPES = new Set<FormField['type']>(['text-single', 'text-private', 'text-multi', 'boolean', 'list-single', 'jid-single', 'fixed', 'hidden']);
const MAX_FIELDS = 100;
const MAX_TEXT = 4000;

/** What the server asked, and how to answer it. */
export type ServerForm = RegistrationForm & {
  /** A data form (submitted as one, with its FORM_TYPE) rather than legacy fields. */
  dataForm: boolean;
  /** The server says this stream is already registered (only for a logged-in stream). */
  registered: boolean;
};

const clip = (value: string | null | undefined) => {
  const text = value?.trim();
  return text ? text.slice(0, MAX_TEXT) : undefined;
};

function dataFormField(field: Element): FormField | null {
  const type = (field.attrs.type ?? 'text-single') as FormField['type'];
  const name = field.attrs.var;
  // Unknown types (list-multi, jid-multi, ...) are shown as text; a field without a name only as fixed text.
  const known = FIELD_TYPES.has(type) ? type : 'text-single';
  if (!name && known !== 'fixed') return null;
  const value = field.getChildren('value').map((v) => v.text()).join('\n');
  const options = field
    .getChildren('option')
    .map((o) => ({ value: o.getChildText('value') ?? '', ...(clip(o.attrs.label) ? { label: clip(o.attrs.label)! } : {}) }))
    .filter((o) => o.value !== '');
  return {
    var: name ?? '',
    type: known,
    ...(clip(field.attrs.label) ? { label: clip(field.attrs.label)! } : {}),
    ...(clip(field.getChildText('desc')) ? { desc: clip(field.getChildText('desc'))! } : {}),
    ...(field.getChild('required') ? { required: true } : {}),
    ...(value ? { value: value.slice(0, MAX_TEXT) } : {}),
    ...(known === 'list-single' && options.length ? { options: options.slice(0, MAX_FIELDS) } : {}),
  };
}

/** Reads the `<query/>` of the server's answer to our request for the form. */
export function parseRegistrationForm(query: Element | undefined): ServerForm | { kind: 'rejected'; reason: string } {
  if (!query?.is('query', NS_REGISTER)) return { kind: 'rejected', reason: 'the answer holds no registration form' };
  const registered = Boolean(query.getChild('registered'));
  const form = query.getChild('x', NS_DATA);
  if (form) {
    const fields = form
      .getChildren('field')
      .slice(0, MAX_FIELDS)
      .map(dataFormField)
      .filter((f): f is FormField => f !== null);
    const instructions = clip(form.getChildren('instructions').map((i) => i.text()).join('\n')) ?? clip(query.getChildText('instructions'));
    return { dataForm: true, registered, fields, ...(instructions ? { instructions } : {}) };
  }
  const fields: FormField[] = query
    .getChildElements()
    .filter((child) => !NOT_FIELDS.has(child.name) && child.getNS() === NS_REGISTER)
    .slice(0, MAX_FIELDS)
    .map((child) => {
      // `key` is an old anti-spoofing token: sent back as it came, never shown.
      if (child.name === 'key') return { var: 'key', type: 'hidden', value: child.text() } as FormField;
      const value = clip(child.text());
      return {
        var: child.name,
        type: child.name === 'password' ? 'text-private' : 'text-single',
        label: LEGACY_LABELS[child.name] ?? child.name,
        required: true,
        ...(value ? { value } : {}),
      };
    });
  const instructions = clip(query.getChildText('instructions'));
  return { dataForm: false, registered, fields, ...(instructions ? { instructions } : {}) };
}

/** The `<query/>` that submits `values` for `form`: a data form with every field it had, or the legacy fields. */
export function registrationSubmission(form: ServerForm, values: Readonly<Record<string, string>>): Element {
  if (form.dataForm) {
    const fields = form.fields
      .filter((f) => f.type !== 'fixed')
      .map((f) => {
        // Hidden fields (FORM_TYPE, a challenge) go back as the server sent them.
        const value = f.type === 'hidden' ? (f.value ?? '') : (values[f.var] ?? f.value ?? '');
        return xml('field', { var: f.var }, ...value.split('\n').map((line) => xml('value', {}, line)));
      });
    return xml('query', { xmlns: NS_REGISTER }, xml('x', { xmlns: NS_DATA, type: 'submit' }, ...fields));
  }
  return xml(
    'query',
    { xmlns: NS_REGISTER },
    ...form.fields.map((f) => xml(f.var, {}, f.type === 'hidden' ? (f.value ?? '') : (values[f.var] ?? ''))),
  );
}

/** The fields a user must fill that are still empty, by label, for an error before we ask the server. */
export function missingFields(form: RegistrationForm, values: Readonly<Record<string, string>>): string[] {
  return form.fields
    .filter((f) => f.required && f.type !== 'hidden' && f.type !== 'fixed' && !(values[f.var] ?? f.value ?? '').trim())
    .map((f) => f.label ?? f.var);
}

/** XEP-0077 §3.1 and §9: why the server refused, in words. */
export function registrationRefusal(domain: string, condition: string, text: string | undefined, username?: string): string {
  const said = text ? ` The server said: “${text.slice(0, 500)}”` : '';
  switch (condition) {
    case 'conflict':
      return `${username ? `The name “${username}”` : 'That name'} is already taken on ${domain}; choose another.${said}`;
    case 'not-acceptable':
    case 'bad-request':
      return `${domain} did not accept the form: a field is missing or not valid.${said}`;
    case 'not-allowed':
    case 'forbidden':
    case 'service-unavailable':
    case 'feature-not-implemented':
      return `${domain} does not let new accounts be created from an app; its website may offer sign-up.${said}`;
    case 'resource-constraint':
    case 'policy-violation':
      return `${domain} is not taking new accounts from here right now; try again later.${said}`;
    case 'not-authorized':
      return `${domain} wants something proved first (such as a CAPTCHA) that Heron cannot show.${said}`;
    default:
      return `${domain} refused the registration (${condition}).${said}`;
  }
}
