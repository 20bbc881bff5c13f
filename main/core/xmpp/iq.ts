// Asking another entity something: the library pairs an answer with its question by id alone,
// so we also check the answer came from whom we asked.
import xml, { type Element } from '@xmpp/xml';
import type { IqCaller } from '@xmpp/iq/caller.js';

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Sends `child` in an IQ to `to` and returns the answer's child of the same name. A server
 * answering for our own account or domain may leave `from` out (RFC 6120 §8.1.2.1).
 */
export async function ask(
  caller: IqCaller,
  type: 'get' | 'set',
  to: string,
  child: Element,
  options: { ownJids: readonly string[]; timeoutMs?: number },
): Promise<Element | undefined> {
  const answer = await caller.request(xml('iq', { type, to }, child), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const from = answer.attrs.from;
  if (from !== to && !(from === undefined && options.ownJids.includes(to))) throw new Error(`an answer for ${to} came from ${from ?? 'our server'}`);
  return answer.getChild(child.name, child.attrs.xmlns);
}

/** An error to answer an IQ with (RFC 6120 §8.3). */
export function stanzaError(type: 'cancel' | 'modify' | 'auth' | 'wait', condition: string): Element {
  return xml('error', { type }, xml(condition, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }));
}
