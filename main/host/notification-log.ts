// The headless host has no desktop to show notifications on: it records what the policy
// decided, so that tests (and a developer) can see what a desktop would have shown.
import type { Decision, Notice, NotificationSink } from '../core';

const KEPT = 200;

export type NotificationRecord = {
  /** Decisions on incoming messages, oldest first: `notify`, or `none` with the reason. */
  decisions: Array<{ messageId: number; conversationId: number; decision: Decision }>;
  /** Every notice shown, the catch-up summaries too. */
  shown: Notice[];
  dismissed: string[];
  badge: number;
};

export function notificationLog(): NotificationSink & { record(): NotificationRecord } {
  const record: NotificationRecord = { decisions: [], shown: [], dismissed: [], badge: 0 };
  const keep = <T>(list: T[], item: T) => {
    list.push(item);
    if (list.length > KEPT) list.shift();
  };
  return {
    show: (notice) => keep(record.shown, notice),
    dismiss: (group) => keep(record.dismissed, group),
    badge: (count) => {
      record.badge = count;
    },
    decided: (decision, message) => keep(record.decisions, { messageId: message.id, conversationId: message.conversationId, decision }),
    record: () => structuredClone(record),
  };
}
