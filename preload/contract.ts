// The one contract between the renderer and the main process: every command with its
// payload and result, every event, and the runtime schemas main checks payloads against.
// Both transports (Electron IPC and the headless host's WebSocket) carry exactly this.
import { z } from 'zod';

const MAX_JID = 3071; // RFC 7622: each part at most 1023 octets

/** A bare JID as a user types it: local@domain, no resource. */
export const bareJidSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(MAX_JID, 'The address is too long.')
  .regex(/^[^@/\s"&'<>:]+@[^@/\s]+$/, 'Enter an address like name@example.org.');

export const accountIdSchema = z.string().regex(/^[0-9a-f-]{36}$/, 'not an account id');
export const conversationIdSchema = z.number().int().positive();
export const messageIdSchema = z.number().int().positive();

export const connectionStateSchema = z.enum([
  'disabled',
  'offline',
  'connecting',
  'online',
  'waiting', // waiting to retry after a failure
  'auth-failed',
  'cert-rejected', // the server's certificate failed validation; the user may trust exactly that one
  'error',
]);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export type AccountConnection = {
  state: ConnectionState;
  /** What went wrong, in words a user understands; absent when nothing did. */
  reason?: string;
  /** When the next attempt starts (ms since epoch), while waiting. */
  retryAt?: number;
  /** Consecutive failed attempts since the last success. */
  attempt: number;
  /** Online and still catching up on what happened while away. */
  syncing?: boolean;
  /** Where the live session is connected, while online. */
  via?: { host: string; port: number; directTls: boolean };
  /** The certificate that was refused, in state cert-rejected. */
  certificate?: CertificateView;
};

/** A server certificate as the user is asked to judge it. */
export type CertificateView = {
  /** Distinguished names, e.g. "CN=example.org, O=Example". */
  subject: string;
  issuer: string;
  /** The names it is valid for (subject alternative names). */
  names: string[];
  /** Validity in ms since epoch. */
  validFrom: number;
  validTo: number;
  /** SHA-256 of the certificate, as colon-separated upper-case hex pairs. */
  fingerprint: string;
  /** The account trusted a different certificate before: this one replaced it. */
  replacesTrusted: boolean;
};

export type AccountView = {
  id: string;
  jid: string;
  host?: string;
  port?: number;
  enabled: boolean;
  connection: AccountConnection;
  /** The presence we show our contacts while online (also sent as initial presence on connect). */
  presence: OwnPresence;
};

export type PresenceShow = 'available' | 'chat' | 'away' | 'xa' | 'dnd' | 'offline';

/** What a user may set as their own presence. */
export const ownShowSchema = z.enum(['available', 'away', 'xa', 'dnd']);
export type OwnPresence = { show: z.infer<typeof ownShowSchema>; status?: string };

export type ContactView = {
  accountId: string;
  jid: string;
  name?: string;
  subscription: 'none' | 'to' | 'from' | 'both';
  groups: string[];
  /** We asked to see their presence and they have not answered yet. */
  awaitingApproval?: boolean;
  /** Of their best online resource; `idleSince` (ms since epoch) when that device says it is idle (XEP-0319). */
  presence: { show: PresenceShow; status?: string; idleSince?: number };
};

/** Someone asks to see our presence (RFC 6121 §3.1); kept until answered, across restarts. */
export type SubscriptionRequestView = {
  accountId: string;
  jid: string;
  /** The name they suggest for themselves (XEP-0172), as they typed it. */
  nick?: string;
  /** Their message with the request. */
  status?: string;
  receivedAt: number;
};

const contactNameSchema = z.string().trim().max(1023, 'The name is too long.');
const contactGroupsSchema = z
  .array(z.string().trim().min(1, 'A group needs a name.').max(1023, 'A group name is too long.'))
  .max(100, 'At most 100 groups.');

export type MessageState = 'pending' | 'sent' | 'delivered' | 'read' | 'failed' | 'received';

export type MessageView = {
  id: number;
  conversationId: number;
  accountId: string;
  direction: 'in' | 'out';
  /** Bare JID of the author. */
  from: string;
  body: string;
  /** Time of the message in ms since epoch (the sender's, when the server tells it). */
  ts: number;
  state: MessageState;
  error?: string;
  /** When the sender last corrected it (XEP-0308); `body` is the corrected text. */
  editedAt?: number;
  /** When the sender retracted it (XEP-0424); `body` is then empty. */
  retractedAt?: number;
  /** Current reactions (XEP-0444): each emoji with the bare JIDs who chose it. */
  reactions?: Array<{ emoji: string; from: string[] }>;
  /** The message this one answers (XEP-0461); `id` once that message is in the archive. */
  replyTo?: { ref: string; to?: string; id?: number };
  attachments?: AttachmentView[];
  /** Not a message: a notice that history from `from` to `to` is missing (the server no longer keeps it). */
  gap?: { from: number; to: number };
};

export type AttachmentView = { url: string; name?: string; mime?: string; size?: number; width?: number; height?: number };

export type ConversationView = {
  id: number;
  accountId: string;
  peer: string;
  kind: 'chat';
  unread: number;
  last?: { body: string; ts: number; direction: 'in' | 'out' };
};

export const pageCursorSchema = z.object({
  ts: z.number().int().nonnegative(),
  id: z.number().int().positive(),
});
export type PageCursor = z.infer<typeof pageCursorSchema>;

export type MessagePage = { messages: MessageView[]; hasMoreBefore: boolean };
export type MessagePageAfter = { messages: MessageView[]; hasMoreAfter: boolean };
export type MessagesAround = { conversationId: number; messages: MessageView[]; hasMoreBefore: boolean; hasMoreAfter: boolean };

/** A search result: the message, its conversation's peer, and a snippet with the matched words marked. */
export type SearchHit = { message: MessageView; peer: string; snippet: Array<{ text: string; hit: boolean }> };
/** `nextBefore`: pass as `before` for the next, older page of results (newest-first order only). */
export type SearchResult = { hits: SearchHit[]; nextBefore?: number };

/**
 * `recovered`: the history file was found damaged at start and moved aside; a fresh one replaced it.
 * `damaged`: the background check found damage in the file in use; it is moved aside at the next start.
 */
export type ArchiveStatus = { recovered: null | { movedTo: string; reason: string }; damaged: null | { reason: string } };

const empty = z.object({}).strict();

const hostSchema = z
  .string()
  .trim()
  .max(253, 'The host name is too long.')
  .regex(/^[A-Za-z0-9.:[\]-]+$/, 'The host must be a name like xmpp.example.org or an IP address.');
const portSchema = z
  .number({ error: 'The port must be a number.' })
  .int('The port must be a whole number.')
  .min(1, 'The port must be between 1 and 65535.')
  .max(65535, 'The port must be between 1 and 65535.');
const passwordSchema = z.string().min(1, 'Enter the password.').max(1024, 'The password is too long.');
export const fingerprintSchema = z
  .string()
  .regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, 'not a SHA-256 fingerprint');

/** Every command: its payload schema. Result types are in `CommandResults`. */
export const commandSchemas = {
  'accounts.list': empty,
  'accounts.add': z
    .object({
      jid: bareJidSchema,
      password: passwordSchema,
      host: hostSchema.optional(),
      port: portSchema.optional(),
    })
    .strict(),
  /** Changes what is given; `null` clears the host or port override. A new password goes to the keychain. */
  'accounts.update': z
    .object({
      accountId: accountIdSchema,
      password: passwordSchema.optional(),
      host: hostSchema.nullable().optional(),
      port: portSchema.nullable().optional(),
    })
    .strict(),
  'accounts.setEnabled': z.object({ accountId: accountIdSchema, enabled: z.boolean() }).strict(),
  /** Forgets the account and its password; its chats stay readable unless `deleteHistory`. */
  'accounts.remove': z.object({ accountId: accountIdSchema, deleteHistory: z.boolean() }).strict(),
  /** Connects now, whatever the state (cuts a wait short, retries after a failure). */
  'accounts.reconnect': z.object({ accountId: accountIdSchema }).strict(),
  /** Trusts the certificate the account was refused for, by its fingerprint, then connects. */
  'accounts.trustCertificate': z.object({ accountId: accountIdSchema, fingerprint: fingerprintSchema }).strict(),
  'contacts.list': z.object({ accountId: accountIdSchema }).strict(),
  'conversations.list': empty,
  'conversations.open': z.object({ accountId: accountIdSchema, peer: bareJidSchema }).strict(),
  'messages.page': z
    .object({
      conversationId: conversationIdSchema,
      before: pageCursorSchema.optional(),
      limit: z.number().int().min(1).max(200),
    })
    .strict(),
  'messages.send': z
    .object({
      conversationId: conversationIdSchema,
      body: z
        .string()
        .max(20_000, 'The message is too long (at most 20,000 characters).')
        .refine((s) => s.trim().length > 0, 'The message is empty.'),
    })
    .strict(),
  'conversations.markRead': z.object({ conversationId: conversationIdSchema }).strict(),
  /** Without `accountId`, for every account. */
  'presence.set': z
    .object({
      accountId: accountIdSchema.optional(),
      show: ownShowSchema,
      status: z.string().trim().max(1000, 'The status is too long (at most 1,000 characters).').optional(),
    })
    .strict(),
  'contacts.add': z
    .object({ accountId: accountIdSchema, jid: bareJidSchema, name: contactNameSchema.optional(), groups: contactGroupsSchema.optional() })
    .strict(),
  /** Sets the name (empty or absent: none) and the groups of a contact. */
  'contacts.update': z
    .object({ accountId: accountIdSchema, jid: bareJidSchema, name: contactNameSchema.optional(), groups: contactGroupsSchema })
    .strict(),
  'contacts.remove': z.object({ accountId: accountIdSchema, jid: bareJidSchema }).strict(),
  'requests.list': z.object({ accountId: accountIdSchema }).strict(),
  'requests.answer': z
    .object({ accountId: accountIdSchema, jid: bareJidSchema, answer: z.enum(['approve', 'deny', 'block']) })
    .strict(),
  /** The user is (or is no longer) looking at Heron: lets servers hold back what is not urgent. */
  'app.setActive': z.object({ active: z.boolean() }).strict(),
  'messages.pageAfter': z
    .object({ conversationId: conversationIdSchema, after: pageCursorSchema, limit: z.number().int().min(1).max(200) })
    .strict(),
  'messages.around': z.object({ messageId: messageIdSchema, limit: z.number().int().min(1).max(200) }).strict(),
  'messages.search': z
    .object({
      /** Whatever the user typed: any text is a valid query. */
      query: z.string().max(1000),
      accountId: accountIdSchema.optional(),
      conversationId: conversationIdSchema.optional(),
      sender: z.string().trim().toLowerCase().min(1).max(MAX_JID).optional(),
      /** Inclusive lower and exclusive upper bound, ms since epoch. */
      from: z.number().int().nonnegative().optional(),
      to: z.number().int().nonnegative().optional(),
      order: z.enum(['newest', 'relevance']).optional(),
      before: messageIdSchema.optional(),
      limit: z.number().int().min(1).max(100),
    })
    .strict(),
  'conversations.delete': z.object({ conversationId: conversationIdSchema }).strict(),
  /** Writes a JSON Lines export (format in the README) into the data folder's exports/ and returns its path. */
  'archive.export': z.object({ conversationId: conversationIdSchema.optional() }).strict(),
  'archive.status': empty,
} as const;

export type CommandName = keyof typeof commandSchemas;
export const commandNames = Object.keys(commandSchemas) as CommandName[];
export type CommandPayload<C extends CommandName> = z.input<(typeof commandSchemas)[C]>;
export type ParsedPayload<C extends CommandName> = z.output<(typeof commandSchemas)[C]>;

export type CommandResults = {
  'accounts.list': AccountView[];
  'accounts.add': AccountView;
  'accounts.update': AccountView;
  'accounts.setEnabled': AccountView;
  'accounts.remove': { accountId: string };
  'accounts.reconnect': AccountView;
  'accounts.trustCertificate': AccountView;
  'contacts.list': ContactView[];
  'conversations.list': ConversationView[];
  'conversations.open': ConversationView;
  'messages.page': MessagePage;
  'messages.send': MessageView;
  'conversations.markRead': ConversationView;
  'presence.set': AccountView[];
  'contacts.add': { accountId: string; jid: string };
  'contacts.update': { accountId: string; jid: string };
  'contacts.remove': { accountId: string; jid: string };
  'requests.list': SubscriptionRequestView[];
  'requests.answer': { accountId: string; jid: string };
  'app.setActive': { active: boolean };
  'messages.pageAfter': MessagePageAfter;
  'messages.around': MessagesAround;
  'messages.search': SearchResult;
  'conversations.delete': { conversationId: number };
  'archive.export': { file: string; messages: number };
  'archive.status': ArchiveStatus;
};

/** Every event main pushes to the renderer. */
export type EventPayloads = {
  'account.changed': AccountView;
  'account.removed': { accountId: string };
  'contacts.changed': { accountId: string; contacts: ContactView[] };
  'message.added': MessageView;
  'message.updated': MessageView;
  'conversation.changed': ConversationView;
  'requests.changed': { accountId: string; requests: SubscriptionRequestView[] };
  'conversation.removed': { conversationId: number };
  'archive.damaged': { reason: string };
};
export type EventName = keyof EventPayloads;

/** What `window.heron` is, in Electron and in the headless host alike. */
export interface HeronApi {
  invoke<C extends CommandName>(command: C, payload: CommandPayload<C>): Promise<CommandResults[C]>;
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void;
}

export type ErrorCode =
  | 'invalid-payload'
  | 'unknown-command'
  | 'not-found'
  | 'conflict'
  | 'vault'
  | 'internal'
  /** The command needs the account online. */
  | 'offline'
  /** The server said no; the message says what it said. */
  | 'refused';

/** How a failed command crosses the bridge: a code the UI can branch on and a message it can show. */
export type CommandError = { code: ErrorCode; message: string; /** The payload field at fault, for forms. */ field?: string };

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(commandSchemas, name);
}

// The headless host's WebSocket frames.
export type WireRequest = { id: number; command: string; payload: unknown };
export type WireResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: CommandError };
export type WireEvent = { event: EventName; payload: unknown };

/** IPC channel names used by the Electron preload and main. */
export const ipcCommandChannel = (command: CommandName) => `heron:cmd:${command}`;
export const IPC_EVENT_CHANNEL = 'heron:event';
