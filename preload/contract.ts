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
const messageBodySchema = z
  .string()
  .max(20_000, 'The message is too long (at most 20,000 characters).')
  .refine((s) => s.trim().length > 0, 'The message is empty.');
/** XEP-0085 chat states. */
export type ChatState = 'active' | 'composing' | 'paused' | 'inactive' | 'gone';
const chatStateSchema = z.enum(['active', 'composing', 'paused', 'inactive', 'gone']);

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
  /**
   * In state auth-failed: Heron refused to log in with PLAIN (the password shown to the server)
   * because this account logged in with SCRAM before; `accounts.allowPlain` lets it.
   */
  plainRefused?: true;
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

/**
 * `archived`: the recipient's server would not queue it offline (their queue is full) but our
 * server archives messages, so they get it from the archive when they next catch up.
 */
export type MessageState = 'pending' | 'sent' | 'archived' | 'delivered' | 'read' | 'failed' | 'received';

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
  /** End-to-end encrypted (XEP-0384): `omemo` is OMEMO 0.3, `omemo2` OMEMO 2; the sending device. */
  encryption?: 'omemo' | 'omemo2';
  senderDevice?: number;
  /** Arrived encrypted and could not be decrypted; `body` says why. */
  undecryptable?: true;
};

/** A contact's OMEMO device: `fingerprint` (hex of its identity key) once a bundle or message showed it. */
export type OmemoDeviceView = {
  version: 'omemo' | 'omemo2';
  deviceId: number;
  /** In the contact's current device list. */
  active: boolean;
  trust: 'verified' | 'untrusted' | 'blind';
  fingerprint?: string;
};

export type AttachmentView = { url: string; name?: string; mime?: string; size?: number; width?: number; height?: number };

export type ConversationView = {
  id: number;
  accountId: string;
  peer: string;
  /** `groupchat`: a room (peer is its JID); `private`: private messages with a room occupant (peer is room@service/nick). */
  kind: 'chat' | 'groupchat' | 'private';
  unread: number;
  last?: { body: string; ts: number; direction: 'in' | 'out' };
  /**
   * Someone not in the roster wrote first: `waiting` in message requests until the user
   * accepts (never in the chat list, no unread badge, no notification); `declined` once blocked
   * or denied (kept in the archive, shown nowhere). Absent for a chat in the list.
   */
  request?: 'waiting' | 'declined';
  /** Kept at the top of the chat list. */
  pinned: boolean;
  /** No notification and no count in the window title; the unread badge stays, quieter. */
  muted: boolean;
  /** What the user typed and has not sent ('' for none); kept across restarts. */
  draft: string;
};

/** App-level preferences, kept in the archive (`settings.get`, `settings.update`). */
export type Settings = {
  theme: 'system' | 'light' | 'dark';
  textSize: 'small' | 'normal' | 'large';
  /** false: Ctrl/Cmd+Enter sends, Enter is a new line. */
  enterSends: boolean;
  /** XEP-0085 chat states. */
  sendTyping: boolean;
  /** XEP-0333 displayed markers. */
  sendReadMarkers: boolean;
  notifications: { enabled: boolean; privacy: 'sender-and-text' | 'sender' | 'nothing'; sound: boolean };
  tray: { closeToTray: boolean; startMinimized: boolean; launchAtLogin: boolean };
};

export const settingsSchema = z
  .object({
    theme: z.enum(['system', 'light', 'dark']),
    textSize: z.enum(['small', 'normal', 'large']),
    enterSends: z.boolean(),
    sendTyping: z.boolean(),
    sendReadMarkers: z.boolean(),
    notifications: z.object({ enabled: z.boolean(), privacy: z.enum(['sender-and-text', 'sender', 'nothing']), sound: z.boolean() }).strict(),
    tray: z.object({ closeToTray: z.boolean(), startMinimized: z.boolean(), launchAtLogin: z.boolean() }).strict(),
  })
  .strict() satisfies z.ZodType<Settings>;

/** Any part of Settings, nested objects partial too. */
export const settingsPatchSchema = settingsSchema
  .extend({
    notifications: settingsSchema.shape.notifications.partial(),
    tray: settingsSchema.shape.tray.partial(),
  })
  .partial();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

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
 * One field of a server's registration form (XEP-0077): a data form field (XEP-0004), or one of
 * the legacy fields (username, password, email, ...) shown the same way. `hidden` fields are not
 * shown but sent back as they came; `fixed` ones are text to show.
 */
export type FormField = {
  var: string;
  type: 'text-single' | 'text-private' | 'text-multi' | 'boolean' | 'list-single' | 'jid-single' | 'fixed' | 'hidden';
  label?: string;
  desc?: string;
  required?: boolean;
  value?: string;
  options?: Array<{ label?: string; value: string }>;
};
export type RegistrationForm = { instructions?: string; fields: FormField[] };

/**
 * `recovered`: the history file was found damaged at start and moved aside; a fresh one replaced it.
 * `damaged`: the background check found damage in the file in use; it is moved aside at the next start.
 */
/**
 * An xmpp: link handed to Heron (RFC 5122), as the window asks the user about it: nothing is
 * sent, added or joined before the user confirms. `chat` opens the chat (with `body` for the
 * composer); `add-contact` adds `jid` to the contacts and asks to see their presence;
 * `unsupported` and `refused` only say why (`reason`).
 */
export type UriRequest = {
  id: number;
  action: 'chat' | 'add-contact' | 'unsupported' | 'refused';
  /** The link as given, cut short; shown as text. */
  uri: string;
  /** The bare JID the link is about. */
  jid?: string;
  body?: string;
  name?: string;
  group?: string;
  /** The account it acts from: the one the link names, or the only one there is. Absent: the user picks. */
  accountId?: string;
  reason?: string;
  /** OMEMO fingerprints the link vouches for (`omemo-sid-<device>=<hex>`), kept for OMEMO trust. */
  omemo?: Array<{ device: number; fingerprint: string }>;
};

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
const domainSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(1023, 'The server name is too long.')
  .regex(/^[^@/\s"&'<>:]+$/, 'Enter a server name like example.org.');
const passwordSchema = z.string().min(1, 'Enter the password.').max(1024, 'The password is too long.');
export const fingerprintSchema = z
  .string()
  .regex(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/, 'not a SHA-256 fingerprint');

// ── rooms (XEP-0045) and bookmarks (XEP-0402) ───────────────────────────
const nickSchema = z.string().trim().min(1, 'Enter a nickname.').max(200, 'The nickname is too long.');
const roomPasswordSchema = z.string().min(1).max(1024, 'The password is too long.');
const reasonSchema = z.string().trim().max(1000, 'The reason is too long.');
/** A conference service's address, e.g. conference.example.org. */
const serviceSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(MAX_JID, 'The address is too long.')
  .regex(/^[^@/\s"&'<>:]+$/, 'Enter a service address like conference.example.org.');
export const roleSchema = z.enum(['moderator', 'participant', 'visitor', 'none']);
export const affiliationSchema = z.enum(['owner', 'admin', 'member', 'outcast', 'none']);

export type OccupantView = {
  nick: string;
  role: z.infer<typeof roleSchema>;
  affiliation: z.infer<typeof affiliationSchema>;
  show: Exclude<PresenceShow, 'offline'>;
  status?: string;
  /** XEP-0421: stays the same across nick changes, where the room provides it. */
  occupantId?: string;
  /** Their real address, where the room shows it. */
  jid?: string;
};

export type RoomView = {
  accountId: string;
  jid: string;
  conversationId: number;
  nick: string;
  /** `left`: not in the room (left, kicked, banned, destroyed, or not yet rejoined); `error` says why. */
  state: 'joining' | 'joined' | 'left';
  subject?: string;
  /** Why we are not in the room, in words (nick taken, banned, wrong password, …). */
  error?: string;
  role?: OccupantView['role'];
  affiliation?: OccupantView['affiliation'];
  occupants: number;
};

/** A data form (XEP-0004), e.g. a room's configuration, for the window to render generically. */
export type DataFormView = {
  title?: string;
  instructions?: string;
  fields: Array<{
    var: string;
    /** boolean, fixed, hidden, jid-single, jid-multi, list-single, list-multi, text-multi, text-private, text-single. */
    type: string;
    label?: string;
    values: string[];
    options?: Array<{ label?: string; value: string }>;
    required?: boolean;
  }>;
};

export type BookmarkView = { jid: string; name?: string; autojoin: boolean; nick?: string; hasPassword: boolean };

/** An invitation to a room we received (XEP-0249 direct, or XEP-0045 mediated by the room); the window asks first. */
export type RoomInviteView = {
  accountId: string;
  room: string;
  /** Who invites (bare JID). */
  inviter: string;
  via: 'direct' | 'mediated';
  reason?: string;
  /** The invite carries the room's password; joining uses it. */
  hasPassword: boolean;
  /** The inviter is not in the roster: shown with the message requests, not as a prompt. */
  stranger: boolean;
  receivedAt: number;
};

const roomRef = { accountId: accountIdSchema, room: bareJidSchema };

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
  /** Allows PLAIN for the account that was just refused it (`plainRefused`), then connects. */
  'accounts.allowPlain': z.object({ accountId: accountIdSchema }).strict(),
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
      body: messageBodySchema,
      /** The message this one answers (XEP-0461), in the same conversation. */
      replyTo: messageIdSchema.optional(),
    })
    .strict(),
  /** Corrects one of my own messages, any of them (XEP-0308). */
  'messages.correct': z.object({ messageId: messageIdSchema, body: messageBodySchema }).strict(),
  /** My whole set of reactions to a message (XEP-0444); [] takes them all back. */
  'messages.react': z
    .object({
      messageId: messageIdSchema,
      emojis: z.array(z.string().min(1).max(32)).max(20, 'At most 20 different reactions to one message.'),
    })
    .strict(),
  /** Deletes one of my own messages for everyone (XEP-0424). */
  'messages.retract': z.object({ messageId: messageIdSchema }).strict(),
  /** Sends a message of mine that failed again, with the same id: it is pending in the outbox once more. */
  'messages.retry': z.object({ messageId: messageIdSchema }).strict(),
  /** Tells a contact what I am doing in our chat (XEP-0085); nothing goes to someone who may not hear from us. */
  'chatStates.send': z.object({ conversationId: conversationIdSchema, state: chatStateSchema }).strict(),
  'conversations.markRead': z.object({ conversationId: conversationIdSchema }).strict(),
  /** Pins, mutes or keeps a draft for a conversation; only what is given changes. */
  'conversations.update': z
    .object({
      conversationId: conversationIdSchema,
      pinned: z.boolean().optional(),
      muted: z.boolean().optional(),
      draft: z.string().max(20_000, 'The draft is too long (at most 20,000 characters).').optional(),
    })
    .strict(),
  'settings.get': empty,
  /** Changes only what is given (nested objects too) and returns the whole settings. */
  'settings.update': settingsPatchSchema,
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
  /** Chats someone not in the roster started, waiting for the user (every account), most recent first. */
  'messageRequests.list': empty,
  /**
   * Settles what each sender asked, message request and subscription request alike, for one
   * or many at once: accept (a contact; the chat joins the list), deny, block (XEP-0191) or
   * report as spam (XEP-0377 with the block, where the server takes reports).
   */
  'requests.decide': z
    .object({
      items: z
        .array(z.object({ accountId: accountIdSchema, jid: bareJidSchema }).strict())
        .min(1, 'Choose at least one request.')
        .max(500, 'At most 500 requests at once.'),
      action: z.enum(['accept', 'deny', 'block', 'report']),
    })
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
  /** The conversation the window shows (null: none); no notification comes for what the user is reading. */
  'app.setViewing': z.object({ conversationId: conversationIdSchema.nullable() }).strict(),
  /** The xmpp: links handed to Heron that the window has not taken yet; taking empties the list. */
  'app.takeUris': empty,
  /** Asks the server for its registration form (XEP-0077), over TLS, before any account exists. */
  'registration.form': z.object({ domain: domainSchema, host: hostSchema.optional(), port: portSchema.optional() }).strict(),
  /** Creates the account on the server with the form's values, then adds it (password in the keychain). */
  'registration.submit': z
    .object({
      domain: domainSchema,
      host: hostSchema.optional(),
      port: portSchema.optional(),
      values: z.record(z.string().max(200), z.string().max(4000)).refine((v) => Object.keys(v).length <= 100, 'Too many fields.'),
    })
    .strict(),
  'blocklist.list': z.object({ accountId: accountIdSchema }).strict(),
  /** Lets a blocked address (bare, full or a domain, as the block list has it) reach us again. */
  'blocklist.unblock': z.object({ accountId: accountIdSchema, jid: z.string().trim().min(1).max(MAX_JID) }).strict(),
  /** The rooms a conference service lists (disco#items). */
  'rooms.discover': z.object({ accountId: accountIdSchema, service: serviceSchema }).strict(),
  'rooms.join': z.object({ ...roomRef, nick: nickSchema, password: roomPasswordSchema.optional() }).strict(),
  'rooms.leave': z.object(roomRef).strict(),
  /** Every room of every account, joined or waiting to be rejoined. */
  'rooms.list': empty,
  'rooms.setNick': z.object({ ...roomRef, nick: nickSchema }).strict(),
  'rooms.setSubject': z.object({ ...roomRef, subject: z.string().max(2000, 'The subject is too long.') }).strict(),
  /** Joins a new room and returns its configuration form, to be sent back with `rooms.configure`. */
  'rooms.create': z.object({ ...roomRef, nick: nickSchema }).strict(),
  /** Without `values`, returns the room's configuration form; with them, submits it. */
  'rooms.configure': z
    .object({ ...roomRef, values: z.record(z.string().max(200), z.array(z.string().max(10_000)).max(500)).optional() })
    .strict(),
  'rooms.destroy': z.object({ ...roomRef, reason: reasonSchema.optional() }).strict(),
  /** Kick (role none), voice (participant), mute (visitor), moderator, by nick. */
  'rooms.setRole': z.object({ ...roomRef, nick: nickSchema, role: roleSchema, reason: reasonSchema.optional() }).strict(),
  /** Ban (outcast), member, admin, owner, or none, by real address. */
  'rooms.setAffiliation': z.object({ ...roomRef, jid: bareJidSchema, affiliation: affiliationSchema, reason: reasonSchema.optional() }).strict(),
  'rooms.occupants': z.object(roomRef).strict(),
  /** A private message to an occupant: its own conversation (kind private), apart from any one-to-one chat. */
  'rooms.sendPrivate': z.object({ ...roomRef, nick: nickSchema, body: z.string().min(1).max(100_000) }).strict(),
  /** A moderator retracts someone's room message (XEP-0425). */
  'rooms.moderate': z.object({ messageId: messageIdSchema, reason: reasonSchema.optional() }).strict(),
  /** Invites someone to a room we are in (XEP-0249 direct invitation). */
  'rooms.invite': z.object({ ...roomRef, jid: bareJidSchema, reason: reasonSchema.optional() }).strict(),
  /** Invitations received and not answered yet, oldest first. */
  'rooms.invites': empty,
  /** Puts an invitation aside; a mediated one is declined through the room, which tells the inviter. */
  'rooms.declineInvite': z.object({ ...roomRef, reason: reasonSchema.optional() }).strict(),
  'bookmarks.list': z.object({ accountId: accountIdSchema }).strict(),
  'bookmarks.set': z
    .object({
      accountId: accountIdSchema,
      jid: bareJidSchema,
      name: z.string().trim().max(200).optional(),
      autojoin: z.boolean(),
      nick: nickSchema.optional(),
      password: roomPasswordSchema.optional(),
    })
    .strict(),
  'bookmarks.remove': z.object({ accountId: accountIdSchema, jid: bareJidSchema }).strict(),
  /** The per-conversation encryption switch (OMEMO), off until set. */
  'omemo.setEnabled': z.object({ conversationId: conversationIdSchema, enabled: z.boolean() }).strict(),
  /** The contact's OMEMO devices with their fingerprints and trust, and what a message would be encrypted with. */
  'omemo.devices': z.object({ conversationId: conversationIdSchema }).strict(),
  'omemo.setTrust': z
    .object({
      accountId: accountIdSchema,
      jid: bareJidSchema,
      deviceId: z.number().int().min(1).max(0xffffffff),
      trust: z.enum(['verified', 'untrusted', 'blind']),
    })
    .strict(),
  /**
   * Fingerprints an xmpp: link vouches for (`omemo-sid-<device>=<hex>`, as Conversations and
   * Gajim put in their QR codes), applied once the user confirmed the link.
   */
  'omemo.vouch': z
    .object({
      accountId: accountIdSchema,
      jid: bareJidSchema,
      fingerprints: z
        .array(z.object({ device: z.number().int().min(1).max(0xffffffff), fingerprint: z.string().regex(/^(?:05)?[0-9a-f]{64}$/i, 'A fingerprint is 64 hex digits.') }).strict())
        .min(1)
        .max(50),
    })
    .strict(),
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
  'accounts.allowPlain': AccountView;
  'contacts.list': ContactView[];
  'conversations.list': ConversationView[];
  'conversations.open': ConversationView;
  'conversations.update': ConversationView;
  'settings.get': Settings;
  'settings.update': Settings;
  'messages.page': MessagePage;
  'messages.send': MessageView;
  'messages.correct': MessageView;
  'messages.react': MessageView;
  'messages.retract': MessageView;
  'messages.retry': MessageView;
  'chatStates.send': { conversationId: number };
  'conversations.markRead': ConversationView;
  'presence.set': AccountView[];
  'contacts.add': { accountId: string; jid: string };
  'contacts.update': { accountId: string; jid: string };
  'contacts.remove': { accountId: string; jid: string };
  'requests.list': SubscriptionRequestView[];
  'requests.answer': { accountId: string; jid: string };
  'messageRequests.list': ConversationView[];
  /** `reported`: a spam report went with the block (false where the server takes none). */
  'requests.decide': { decided: number; reported: boolean };
  'app.setActive': { active: boolean };
  'messages.pageAfter': MessagePageAfter;
  'messages.around': MessagesAround;
  'messages.search': SearchResult;
  'conversations.delete': { conversationId: number };
  'archive.export': { file: string; messages: number };
  'archive.status': ArchiveStatus;
  'app.setViewing': { conversationId: number | null };
  'app.takeUris': UriRequest[];
  'registration.form': RegistrationForm;
  'registration.submit': AccountView;
  'blocklist.list': string[];
  'blocklist.unblock': { accountId: string; jid: string };
  'rooms.discover': Array<{ jid: string; name?: string }>;
  'rooms.join': RoomView;
  'rooms.leave': RoomView;
  'rooms.list': RoomView[];
  'rooms.setNick': RoomView;
  'rooms.setSubject': RoomView;
  'rooms.create': { room: RoomView; form: DataFormView };
  'rooms.configure': { form?: DataFormView };
  'rooms.destroy': { accountId: string; jid: string };
  'rooms.setRole': RoomView;
  'rooms.setAffiliation': RoomView;
  'rooms.occupants': OccupantView[];
  'rooms.sendPrivate': MessageView;
  'rooms.moderate': { messageId: number };
  'rooms.invite': { accountId: string; room: string; jid: string };
  'rooms.invites': RoomInviteView[];
  'rooms.declineInvite': { accountId: string; room: string };
  'bookmarks.list': BookmarkView[];
  'bookmarks.set': BookmarkView[];
  'bookmarks.remove': BookmarkView[];
  'omemo.setEnabled': { conversationId: number; enabled: boolean };
  /** `devices`: the contact's; `own`: my devices (this one included, `deviceId` says which), as my device lists name them. */
  'omemo.devices': {
    conversationId: number;
    encryption: 'omemo' | 'omemo2' | null;
    devices: OmemoDeviceView[];
    own: OmemoDeviceView[];
    deviceId?: number;
    /** This device's fingerprint per version (empty until its keys are loaded). */
    ownFingerprints: Array<{ version: 'omemo' | 'omemo2'; fingerprint: string }>;
  };
  'omemo.setTrust': { accountId: string; jid: string; deviceId: number; trust: 'verified' | 'untrusted' | 'blind' };
  /**
   * What the link's fingerprints did: devices now verified (their key matches), refused (Heron
   * saw another key for them: not written to any more) and pinned (not seen yet: verified if
   * they show that key, refused if another).
   */
  'omemo.vouch': { accountId: string; jid: string; verified: number[]; refused: number[]; pinned: number[] };
};

/** Every event main pushes to the renderer. */
export type EventPayloads = {
  'account.changed': AccountView;
  'account.removed': { accountId: string };
  'contacts.changed': { accountId: string; contacts: ContactView[] };
  'message.added': MessageView;
  'message.updated': MessageView;
  'conversation.changed': ConversationView;
  /** What changed in an account's subscription requests: `added` (new or updated) and `removed` JIDs. */
  'requests.changed': { accountId: string; added: SubscriptionRequestView[]; removed: string[] };
  'conversation.removed': { conversationId: number };
  'archive.damaged': { reason: string };
  /** An xmpp: link reached Heron; the window takes it (`app.takeUris`) and asks the user. */
  'uri.opened': UriRequest;
  /** The shell asks the window to show a conversation (a notification was clicked). */
  'conversation.show': { conversationId: number };
  'chatState.changed': { conversationId: number; accountId: string; peer: string; state: ChatState };
  'room.changed': RoomView;
  /** Occupant changes of a room, batched (a join into a big room brings thousands at once). */
  'room.occupants': {
    accountId: string;
    room: string;
    added: OccupantView[];
    changed: OccupantView[];
    /** Who left and why: kicked and banned are shown to everyone in the room; a nick change names the new nick. */
    removed: Array<{ nick: string; why: 'left' | 'kicked' | 'banned' | 'nick-changed' | 'affiliation-changed' | 'members-only' | 'shutdown' | 'destroyed'; reason?: string; newNick?: string }>;
  };
  'bookmarks.changed': { accountId: string; bookmarks: BookmarkView[] };
  /** An invitation arrived (`room.invited`), or was answered or put aside (`gone`). */
  'room.invited': RoomInviteView;
  'room.inviteGone': { accountId: string; room: string };
  'settings.changed': Settings;
  /**
   * Someone's OMEMO devices changed (their list, a fingerprint first seen, a trust): the window
   * asks `omemo.devices` again. `newDevices`: ids that appeared beside devices already known.
   */
  'omemo.devicesChanged': { accountId: string; jid: string; newDevices: number[] };
  /**
   * An edit or reaction of mine in an encrypted chat could not be encrypted (`reason`): it was
   * not sent, in clear or otherwise, and is tried again on the next connect.
   */
  'message.changeNotSent': { accountId: string; peer: string; kind: 'correction' | 'reaction'; reason: string };
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

/**
 * Whether a room message names `nick`: the whole nick, case-insensitively, not inside a
 * longer word ("bob" in "Bob, hi" and "@bob:", not in "bobby" or "kebob"). Shared by the
 * window (highlight) and the core (notifications).
 */
export function mentionsNick(body: string, nick: string): boolean {
  const wanted = nick.trim().toLocaleLowerCase();
  if (!wanted) return false;
  const text = body.toLocaleLowerCase();
  const isWord = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);
  for (let at = text.indexOf(wanted); at !== -1; at = text.indexOf(wanted, at + 1)) {
    if (!isWord(text[at - 1]) && !isWord(text[at + wanted.length])) return true;
  }
  return false;
}

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
