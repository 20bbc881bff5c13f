// Room bookmarks, synced across my devices: PEP native bookmarks (XEP-0402) read on connect
// and kept up to date by their notifications (only from our own account), the legacy
// private-storage ones (XEP-0048) read where the server has nothing else, and autojoin.
import type { Element } from '@xmpp/xml';
import type { BookmarkView } from '../../../preload/contract';
import { CommandFailure } from '../api';
import type { Session } from '../xmpp/session';
import { ask } from '../xmpp/iq';
import {
  NS_BOOKMARKS,
  fetchBookmarks,
  fetchLegacyBookmarks,
  parseBookmarkItems,
  parseBookmarkNotification,
  parseLegacyBookmarks,
  publishBookmark,
  retractBookmark,
  type Bookmark,
} from '../xmpp/bookmarks';
import type { Feature, FeatureContext, FeatureModule } from './feature';
import { askServer, sessionFor } from './commands';
import { mucModule, type MucFeature } from './muc';
import { publishToOwnPep } from './pep';

function view(bookmark: Bookmark): BookmarkView {
  return {
    jid: bookmark.jid,
    ...(bookmark.name ? { name: bookmark.name } : {}),
    autojoin: bookmark.autojoin,
    ...(bookmark.nick ? { nick: bookmark.nick } : {}),
    hasPassword: bookmark.password !== undefined,
  };
}

export class BookmarksFeature implements Feature {
  /** +notify: our server sends us my other devices' bookmark changes (XEP-0163 §4.4). */
  readonly discoFeatures = [`${NS_BOOKMARKS}+notify`];
  private bookmarks = new Map<string, Bookmark>();
  /** Only the legacy store was there: we read it, and do not write to it. */
  private legacy = false;

  constructor(
    private readonly ctx: FeatureContext,
    private readonly muc: Pick<MucFeature, 'join' | 'list'>,
  ) {}

  list(): BookmarkView[] {
    return [...this.bookmarks.values()].map(view);
  }

  async ready(session: Session): Promise<void> {
    // Not awaited: the other features' catch-up need not wait for the rooms.
    void this.load(session).catch((error: Error) => this.ctx.log('warn', `${this.ctx.bare}: could not read bookmarks: ${error.message}`));
  }

  private async load(session: Session): Promise<void> {
    const own = { ownJids: [this.ctx.bare] };
    let bookmarks: Bookmark[];
    try {
      bookmarks = parseBookmarkItems(await ask(session.iqCaller, 'get', this.ctx.bare, fetchBookmarks(), own));
      this.legacy = false;
    } catch (error) {
      const condition = (error as { condition?: string }).condition;
      if (condition === 'item-not-found') bookmarks = [];
      else {
        // No PEP bookmarks here: the old private storage may hold some.
        bookmarks = parseLegacyBookmarks(await ask(session.iqCaller, 'get', this.ctx.bare, fetchLegacyBookmarks(), own));
        this.legacy = bookmarks.length > 0;
      }
    }
    this.bookmarks = new Map(bookmarks.map((b) => [b.jid, b]));
    this.announce();
    this.autojoin(bookmarks);
  }

  private autojoin(bookmarks: Bookmark[]): void {
    const inRooms = new Set(this.muc.list().filter((room) => room.state !== 'left').map((room) => room.jid));
    const nick = this.ctx.bare.split('@')[0]!;
    for (const bookmark of bookmarks) {
      if (!bookmark.autojoin || inRooms.has(bookmark.jid)) continue;
      void this.muc.join(bookmark.jid, bookmark.nick ?? nick, bookmark.password).catch((error: Error) => this.ctx.log('info', `${bookmark.jid}: autojoin failed: ${error.message}`));
    }
  }

  stanza(stanza: Element): boolean {
    if (!stanza.is('message')) return false;
    const parsed = parseBookmarkNotification(stanza, this.ctx.bare);
    if (parsed.kind === 'ignored') return false;
    if (parsed.kind === 'rejected') {
      this.ctx.log('warn', `${this.ctx.bare}: ignored ${parsed.reason}`);
      return true;
    }
    for (const jid of parsed.removed) this.bookmarks.delete(jid);
    for (const bookmark of parsed.set) this.bookmarks.set(bookmark.jid, bookmark);
    this.announce();
    // A room my other device bookmarked to join: join it here too.
    this.autojoin(parsed.set);
    return true;
  }

  async set(bookmark: Bookmark): Promise<BookmarkView[]> {
    const session = this.writable();
    await askServer(`Could not save the bookmark of ${bookmark.jid}`, publishToOwnPep(session, this.ctx.bare, publishBookmark(bookmark)));
    this.bookmarks.set(bookmark.jid, bookmark);
    this.announce();
    return this.list();
  }

  async remove(jid: string): Promise<BookmarkView[]> {
    const session = this.writable();
    await askServer(`Could not remove the bookmark of ${jid}`, ask(session.iqCaller, 'set', this.ctx.bare, retractBookmark(jid), { ownJids: [this.ctx.bare] }));
    this.bookmarks.delete(jid);
    this.announce();
    return this.list();
  }

  private writable(): Session {
    const session = sessionFor(this.ctx);
    if (this.legacy) throw new CommandFailure('refused', 'Your server keeps bookmarks only in the old format (XEP-0048); Heron reads them but does not change them.');
    return session;
  }

  private announce(): void {
    this.ctx.emit('bookmarks.changed', { accountId: this.ctx.accountId, bookmarks: this.list() });
  }
}

export const bookmarksModule: FeatureModule<BookmarksFeature> = {
  name: 'bookmarks',
  create: (ctx, account) => new BookmarksFeature(ctx, account.use(mucModule)),
  events: ['bookmarks.changed'],
  commands: {
    'bookmarks.list': ({ accountId }, scope) => scope.account(accountId).feature(bookmarksModule).list(),
    'bookmarks.set': ({ accountId, jid, name, autojoin, nick, password }, scope) =>
      scope.account(accountId).feature(bookmarksModule).set({ jid, autojoin, ...(name ? { name } : {}), ...(nick ? { nick } : {}), ...(password ? { password } : {}) }),
    'bookmarks.remove': ({ accountId, jid }, scope) => scope.account(accountId).feature(bookmarksModule).remove(jid),
  },
};
