// Publishing to our own PEP (XEP-0163) with publish-options (XEP-0223) on servers that follow
// them in part. ejabberd 23.01 refuses `max_items` and `send_last_published_item` as publish
// options ("Unknown field"); the item then goes out without them and the node's configuration
// sets them instead: before the publish where the node exists (a node that keeps one item would
// drop another device's bundle, or another chat's read position), after it where the publish
// made the node. A node another client made with other options (precondition-not-met,
// XEP-0060 §7.1.5) is configured with ours once, and the publish tried again.
import type { Element } from '@xmpp/xml';
import { ask } from '../xmpp/iq';
import { configureNode, isPreconditionNotMet, publishRequestParts, unknownPublishOption, withoutPublishOption } from '../xmpp/pubsub';
import type { Session } from '../xmpp/session';

/** What one stream learnt of its server's PEP, and its publishes, one at a time. */
type PepState = { unknown: Set<string>; configured: Set<string>; last: Promise<unknown> };
const states = new WeakMap<Session, PepState>();

/** Publishes `request` (a `<pubsub/>` with `<publish/>` and `<publish-options/>`) to our own PEP. */
export function publishToOwnPep(session: Session, bare: string, request: Element): Promise<void> {
  let state = states.get(session);
  if (!state) states.set(session, (state = { unknown: new Set(), configured: new Set(), last: Promise.resolve() }));
  // One at a time: two publishes racing to make a node would each see it keep one item.
  const run = state.last.then(() => publishNow(session, bare, request, state));
  state.last = run.catch(() => {});
  return run;
}

async function publishNow(session: Session, bare: string, request: Element, { unknown, configured }: PepState): Promise<void> {
  const own = { ownJids: [bare] };
  const { node, options } = publishRequestParts(request);
  const configure = (values: Record<string, string>) =>
    ask(session.iqCaller, 'set', bare, configureNode(node, values), own).then(
      () => true,
      () => false,
    );
  let reconfigured = false;
  for (;;) {
    const byConfiguration = Object.fromEntries(Object.entries(options).filter(([name]) => unknown.has(name)));
    const needsConfiguration = Object.keys(byConfiguration).length > 0 && !configured.has(node);
    if (needsConfiguration && (await configure(byConfiguration))) configured.add(node);
    try {
      await ask(session.iqCaller, 'set', bare, [...unknown].reduce(withoutPublishOption, request), own);
    } catch (error) {
      const name = unknownPublishOption(error);
      if (name !== undefined && name in options && !unknown.has(name)) {
        unknown.add(name);
        continue;
      }
      if (isPreconditionNotMet(error) && !reconfigured) {
        reconfigured = true;
        await configure(options);
        continue;
      }
      throw error;
    }
    // The publish made the node: configure it now.
    if (needsConfiguration && !configured.has(node) && (await configure(byConfiguration))) configured.add(node);
    return;
  }
}
