// What PEP publishers share (XEP-0060, XEP-0223): the namespace and the publish-options form.
import xml, { type Element } from '@xmpp/xml';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_DATA = 'jabber:x:data';

/** `<publish-options/>` asking for these node options (names without the `pubsub#` prefix). */
export function publishOptions(options: Record<string, string>): Element {
  return xml(
    'publish-options',
    {},
    xml(
      'x',
      { xmlns: NS_DATA, type: 'submit' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, `${NS_PUBSUB}#publish-options`)),
      ...Object.entries(options).map(([name, value]) => xml('field', { var: `pubsub#${name}` }, xml('value', {}, value))),
    ),
  );
}
