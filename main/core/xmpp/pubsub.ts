// What PEP publishers share (XEP-0060, XEP-0223): the namespace and the publish-options form.
import xml, { type Element } from '@xmpp/xml';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const NS_DATA = 'jabber:x:data';

/** A submitted data form of node options (names without the `pubsub#` prefix). */
function optionsForm(formType: 'publish-options' | 'node_config', options: Record<string, string>): Element {
  return xml(
    'x',
    { xmlns: NS_DATA, type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, `${NS_PUBSUB}#${formType}`)),
    ...Object.entries(options).map(([name, value]) => xml('field', { var: `pubsub#${name}` }, xml('value', {}, value))),
  );
}

/** `<publish-options/>` asking for these node options (names without the `pubsub#` prefix). */
export function publishOptions(options: Record<string, string>): Element {
  return xml('publish-options', {}, optionsForm('publish-options', options));
}

const NS_PUBSUB_OWNER = `${NS_PUBSUB}#owner`;
const NS_PUBSUB_ERRORS = `${NS_PUBSUB}#errors`;

/** The node exists with another configuration than the publish options asked for (XEP-0060 §7.1.5). */
export function isPreconditionNotMet(error: unknown): boolean {
  const { condition, application } = error as { condition?: string; application?: Element };
  return condition === 'conflict' && application?.is('precondition-not-met', NS_PUBSUB_ERRORS) === true;
}

/** A node configuration (XEP-0060 §8.2) setting these options (names without the prefix). */
export function configureNode(node: string, options: Record<string, string>): Element {
  return xml('pubsub', { xmlns: NS_PUBSUB_OWNER }, xml('configure', { node }, optionsForm('node_config', options)));
}

/** The node a publish request is for, and the options it asks for (names without the prefix). */
export function publishRequestParts(request: Element): { node: string; options: Record<string, string> } {
  const fields = request.getChild('publish-options')?.getChild('x', NS_DATA)?.getChildren('field') ?? [];
  const options = Object.fromEntries(
    fields.flatMap((field) => (field.attrs.var?.startsWith('pubsub#') ? [[field.attrs.var.slice('pubsub#'.length), field.getChildText('value') ?? '']] : [])),
  );
  return { node: request.getChild('publish')?.attrs.node ?? '', options };
}

/** The same publish request without the publish-option `name` (a copy: the request is left as it was). */
export function withoutPublishOption(request: Element, name: string): Element {
  const copy = (element: Element): Element =>
    xml(
      element.name,
      { ...element.attrs },
      ...element.children.flatMap((child): Array<Element | string> => {
        if (typeof child === 'string') return [child];
        const node = child as Element;
        return node.is('field') && node.attrs.var === `pubsub#${name}` ? [] : [copy(node)];
      }),
    );
  return copy(request);
}

/**
 * The publish-option a server's refusal names as one it does not know (ejabberd 23.01 answers
 * "Unknown field 'pubsub#max_items' of type '…#publish-options'"), if any.
 */
export function unknownPublishOption(error: unknown): string | undefined {
  const text = (error as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' ? /Unknown field 'pubsub#([\w-]+)'/.exec(text)?.[1] : undefined;
}
