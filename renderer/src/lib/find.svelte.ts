// Which of the "find things" dialogs is open: the quick switcher (Ctrl+K) or message search
// (Ctrl+Shift+F everywhere, Ctrl+F within the open chat).
export type SearchScope = { conversationId?: number; query?: string };

class FindState {
  switcher = $state(false);
  search: SearchScope | null = $state(null);
  /**
   * The search hit the user asked to see in its chat, once that chat is open: the message list
   * scrolls to it (MessageList, through jumpToMessage) and clears it.
   */
  jumpTo: { conversationId: number; messageId: number } | null = $state(null);

  openSwitcher(): void {
    this.search = null;
    this.switcher = true;
  }

  openSearch(scope: SearchScope = {}): void {
    this.switcher = false;
    this.search = scope;
  }
}

export const find = new FindState();
