// Native notifications and the launcher/dock badge for the notification policy's decisions
// (core/attention). Electron's Notification and app come in as parameters, so this runs under
// Node in the unit tests.
import type { App, Notification, NotificationConstructorOptions } from 'electron';
import type { NotificationSink } from '../core';

type NotificationClass = { new (options: NotificationConstructorOptions): Notification; isSupported(): boolean };

export type NotifierDeps = {
  Notification: NotificationClass;
  /** setBadgeCount: the dock on macOS, the Unity launcher API on Linux (needs the .desktop file). */
  app: Pick<App, 'setBadgeCount'>;
  /** A click: show the window on that conversation (none for a summary over several). */
  open(conversationId: number | undefined): void;
  /** An inline reply (macOS, Windows: `hasReply`). */
  reply(conversationId: number, text: string): void;
  log(level: 'warn', message: string): void;
};

export function electronNotifier(deps: NotifierDeps): NotificationSink {
  // Shown notifications by group: a newer one replaces the older, and a reference is kept
  // because a notification that is garbage-collected no longer reports its click.
  const shown = new Map<string, Notification>();
  const close = (group: string) => {
    shown.get(group)?.close();
    shown.delete(group);
  };
  return {
    show(notice) {
      if (!deps.Notification.isSupported()) return;
      close(notice.group);
      const { conversationId } = notice;
      const notification = new deps.Notification({
        title: notice.title,
        body: notice.body,
        silent: notice.silent,
        ...(conversationId !== undefined ? { hasReply: true, replyPlaceholder: 'Reply…' } : {}),
      });
      notification.on('click', () => deps.open(conversationId));
      notification.on('reply', (details) => {
        const text = details.reply?.trim();
        if (conversationId !== undefined && text) deps.reply(conversationId, text);
      });
      notification.on('close', () => {
        if (shown.get(notice.group) === notification) shown.delete(notice.group);
      });
      notification.on('failed', (_event, error) => deps.log('warn', `a notification failed: ${error}`));
      shown.set(notice.group, notification);
      notification.show();
    },
    dismiss: close,
    badge(count) {
      deps.app.setBadgeCount(count);
    },
  };
}
