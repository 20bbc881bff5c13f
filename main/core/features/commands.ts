// What commands that must talk to the server share: they need the account online, and a
// refusal from the server reaches the user in words, not as an internal error.
import { CommandFailure } from '../api';
import type { Session } from '../xmpp/session';
import type { FeatureContext } from './feature';

export function sessionFor(ctx: FeatureContext): Session {
  const session = ctx.liveSession();
  if (!session) throw new CommandFailure('offline', `${ctx.bare} is not connected; try again once it is online.`);
  return session;
}

const REFUSALS: Record<string, string> = {
  'feature-not-implemented': 'your server does not support this',
  'service-unavailable': 'your server does not support this',
  'not-allowed': 'your server does not allow this',
  forbidden: 'your server does not allow this',
  'item-not-found': 'your server does not know that contact',
  'jid-malformed': 'your server does not accept that address',
};

/** Runs a request to the server; its stanza error or silence becomes a failure the user can read. */
export async function askServer<T>(what: string, request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    const { name, condition, text } = error as { name?: string; condition?: string; text?: string };
    if (name === 'TimeoutError') throw new CommandFailure('offline', `${what}: the server did not answer in time; try again.`);
    if (name !== 'StanzaError' || !condition) throw error;
    const said = REFUSALS[condition] ?? `the server answered “${condition}”`;
    throw new CommandFailure('refused', `${what}: ${said}${text ? ` (${text})` : ''}.`);
  }
}
