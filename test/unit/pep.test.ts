// Publishing to our own PEP on a server that knows publish-options only in part, against a
// fake with ejabberd 23.01's ways: `max_items` as a publish option is an unknown field, and a
// node keeps one item unless its configuration says otherwise.
import xml, { type Element } from '@xmpp/xml';
import parse from '@xmpp/xml/lib/parse.js';
import { describe, expect, it } from 'vitest';
import { publishToOwnPep } from '../../main/core/features/pep';
import { publishItem } from '../../main/core/xmpp/omemo';
import { isPreconditionNotMet, publishRequestParts, unknownPublishOption, withoutPublishOption } from '../../main/core/xmpp/pubsub';
import type { Session } from '../../main/core/xmpp/session';

const ME = 'alice@heron.example';
const BUNDLES = 'urn:xmpp:omemo:2:bundles';
const bundle = (id: string) => publishItem(BUNDLES, id, xml('bundle', { xmlns: 'urn:xmpp:omemo:2' }), 'max');

function fakeServer({ knowsMaxItemsOption = false, accessModel }: { knowsMaxItemsOption?: boolean; accessModel?: string } = {}) {
  const nodes = new Map<string, { maxItems: number; accessModel: string; items: string[] }>();
  const log: string[] = [];
  const refuse = (condition: string, text = '') => Object.assign(new Error(`${condition} ${text}`), { condition, text });
  const request = async (iq: Element): Promise<Element> => {
    const pubsub = iq.getChildElements()[0]!;
    const configure = pubsub.getChild('configure');
    if (configure) {
      const node = nodes.get(configure.attrs.node as string);
      log.push(`configure ${configure.attrs.node}`);
      if (!node) throw refuse('item-not-found');
      const value = (name: string) => configure.getChild('x')?.getChildren('field').find((f) => f.attrs.var === `pubsub#${name}`)?.getChildText('value');
      if (value('max_items')) node.maxItems = value('max_items') === 'max' ? Infinity : Number(value('max_items'));
      if (value('access_model')) node.accessModel = value('access_model')!;
      return xml('iq', { type: 'result' });
    }
    const publish = pubsub.getChild('publish')!;
    const nodeName = publish.attrs.node as string;
    const itemId = publish.getChild('item')!.attrs.id as string;
    const { options } = publishRequestParts(pubsub);
    log.push(`publish ${itemId}${'max_items' in options ? ' with max_items' : ''}`);
    if ('max_items' in options && !knowsMaxItemsOption) throw refuse('resource-constraint', "Unknown field 'pubsub#max_items' of type 'http://jabber.org/protocol/pubsub#publish-options'");
    let node = nodes.get(nodeName);
    if (node && options.access_model && node.accessModel !== options.access_model) {
      throw Object.assign(refuse('conflict'), { application: parse('<precondition-not-met xmlns="http://jabber.org/protocol/pubsub#errors"/>') });
    }
    if (!node) nodes.set(nodeName, (node = { maxItems: 1, accessModel: options.access_model ?? 'presence', items: [] }));
    node.items = [...node.items.filter((id) => id !== itemId), itemId];
    node.items = node.items.slice(Math.max(0, node.items.length - node.maxItems));
    return xml('iq', { type: 'result' });
  };
  if (accessModel) nodes.set(BUNDLES, { maxItems: 1, accessModel, items: [] });
  const session = { iqCaller: { request } } as unknown as Session;
  return { session, nodes, log };
}

describe('publishing to our own PEP', () => {
  it('finds the option ejabberd does not know in its refusal, and drops only that one', () => {
    const refusal = { condition: 'resource-constraint', text: "Unknown field 'pubsub#max_items' of type 'http://jabber.org/protocol/pubsub#publish-options'" };
    expect(unknownPublishOption(refusal)).toBe('max_items');
    expect(unknownPublishOption({ condition: 'forbidden', text: 'no' })).toBeUndefined();
    expect(publishRequestParts(withoutPublishOption(bundle('1'), 'max_items')).options).toEqual({ persist_items: 'true', access_model: 'open' });
  });

  it('sets the node size by configuration where publish-options cannot, so a second device keeps the first one’s bundle', async () => {
    const { session, nodes, log } = fakeServer();
    await publishToOwnPep(session, ME, bundle('1'));
    // The node did not exist: made by the publish, then configured.
    expect(log).toEqual(['publish 1 with max_items', `configure ${BUNDLES}`, 'publish 1', `configure ${BUNDLES}`]);
    log.length = 0;
    await publishToOwnPep(session, ME, bundle('2'));
    // Known for this stream, and the node configured: published once, without the option.
    expect(log).toEqual(['publish 2']);
    expect(nodes.get(BUNDLES)).toMatchObject({ items: ['1', '2'], accessModel: 'open' });
  });

  it('publishes once with the options where the server knows them', async () => {
    const { session, nodes, log } = fakeServer({ knowsMaxItemsOption: true });
    await publishToOwnPep(session, ME, bundle('1'));
    expect(log).toEqual(['publish 1 with max_items']);
    expect(nodes.get(BUNDLES)?.items).toEqual(['1']);
  });

  it('configures a node made by another client with other options once, then publishes', async () => {
    const { session, nodes } = fakeServer({ knowsMaxItemsOption: true, accessModel: 'presence' });
    await publishToOwnPep(session, ME, bundle('1'));
    expect(nodes.get(BUNDLES)).toMatchObject({ accessModel: 'open', items: ['1'] });
  });

  it('tells a node configured otherwise (XEP-0060 §7.1.5) from other refusals', () => {
    // The shape of xmpp.js's StanzaError: the defined condition, and the application-specific one.
    const pubsubError = (application?: string) => ({ name: 'StanzaError', condition: 'conflict', application: application ? parse(application) : undefined });
    expect(isPreconditionNotMet(pubsubError('<precondition-not-met xmlns="http://jabber.org/protocol/pubsub#errors"/>'))).toBe(true);
    expect(isPreconditionNotMet(pubsubError())).toBe(false);
    expect(isPreconditionNotMet(pubsubError('<precondition-not-met xmlns="urn:example:other"/>'))).toBe(false);
    // ejabberd 23.01's answer to pubsub#max_items as a publish option.
    expect(isPreconditionNotMet({ name: 'StanzaError', condition: 'resource-constraint', text: "Unknown field 'pubsub#max_items'" })).toBe(false);
  });

  it('publishes one at a time: two at once on a new node both keep their item', async () => {
    const { session, nodes } = fakeServer();
    await Promise.all([publishToOwnPep(session, ME, bundle('1')), publishToOwnPep(session, ME, bundle('2'))]);
    expect(nodes.get(BUNDLES)?.items).toEqual(['1', '2']);
  });

  it('gives up with the server’s refusal when it is not about the options', async () => {
    const { session } = fakeServer();
    const refused = { ...session, iqCaller: { request: async () => Promise.reject(Object.assign(new Error('forbidden'), { condition: 'forbidden' })) } } as unknown as Session;
    await expect(publishToOwnPep(refused, ME, bundle('1'))).rejects.toMatchObject({ condition: 'forbidden' });
  });
});
