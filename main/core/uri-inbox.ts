// xmpp: links handed to the running app (argv, a second instance, macOS open-url, the host's
// --open-uri): parsed, turned into what Heron would do, and held until the window takes them.
// The window may not be open or loaded when a link arrives, so the inbox holds it; the
// `uri.opened` event only tells an open window to come and take it.
import type { UriRequest } from '../../preload/contract';
import { parseXmppUri } from './xmpp/uri';

/** Links beyond this many, not yet taken, push out the oldest: a flood of links cannot grow memory. */
const MAX_WAITING = 10;
const SHOWN_URI_LENGTH = 300;

type AccountRef = { id: string; jid: string };

/** What a link asks, as Heron can do it, for the accounts there are. Pure. */
export function uriRequest(id: number, text: unknown, accounts: readonly AccountRef[]): UriRequest {
  const shown = typeof text === 'string' ? (text.length > SHOWN_URI_LENGTH ? `${text.slice(0, SHOWN_URI_LENGTH)}…` : text.trim()) : '';
  const refused = (reason: string): UriRequest => ({ id, action: 'refused', uri: shown, reason });
  const parsed = parseXmppUri(text);
  if (!parsed.ok) return refused(parsed.reason);
  const { uri } = parsed;
  if (accounts.length === 0) return refused('Add an account first: Heron has none to open the link with.');
  let accountId: string | undefined;
  if (uri.account !== undefined) {
    const named = accounts.find((a) => a.jid === uri.account);
    if (!named) return refused(`The link is for the account ${uri.account}, which is not set up in Heron.`);
    accountId = named.id;
  } else if (accounts.length === 1) {
    accountId = accounts[0]!.id;
  }
  const base = {
    id,
    uri: shown,
    jid: uri.target.bare,
    ...(accountId ? { accountId } : {}),
    ...(uri.omemo.length > 0 ? { omemo: uri.omemo } : {}),
  };
  const person = uri.target.local !== '';
  const { action } = uri;
  switch (action.kind) {
    case 'open':
    case 'message':
      if (!person) return refused(`${uri.target.bare} is a server, not someone to chat with.`);
      return {
        ...base,
        action: 'chat',
        ...(action.kind === 'message' && action.body ? { body: action.body } : {}),
        ...(uri.ignoredAction ? { reason: `The link also asks for “${uri.ignoredAction}”, which Heron does not do from a link.` } : {}),
      };
    case 'roster':
    case 'subscribe':
      if (!person) return refused(`${uri.target.bare} is a server, not someone to add.`);
      return {
        ...base,
        action: 'add-contact',
        ...(action.kind === 'roster' && action.name ? { name: action.name } : {}),
        ...(action.kind === 'roster' && action.group ? { group: action.group } : {}),
      };
    case 'join':
    case 'invite':
      return { ...base, action: 'unsupported', reason: 'Heron cannot join group chats yet.' };
    case 'register':
      return { ...base, action: 'unsupported', reason: 'Heron cannot create an account from a link yet; use “Add account”.' };
  }
}

export class UriInbox {
  #waiting: UriRequest[] = [];
  #nextId = 1;

  /** Files a link and returns what the window will be asked. */
  put(text: unknown, accounts: readonly AccountRef[]): UriRequest {
    const request = uriRequest(this.#nextId++, text, accounts);
    this.#waiting = [...this.#waiting, request].slice(-MAX_WAITING);
    return request;
  }

  take(): UriRequest[] {
    const taken = this.#waiting;
    this.#waiting = [];
    return taken;
  }
}
