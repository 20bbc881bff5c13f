// What was typed and not sent, per conversation, while the window is open: switching chats
// keeps it. Kept across restarts where the caller stores it too (the composer's `ondraft`).
const drafts = new Map<number, string>();

export function savedDraft(conversationId: number | null): string {
  return conversationId === null ? '' : (drafts.get(conversationId) ?? '');
}

export function rememberDraft(conversationId: number | null, text: string): void {
  if (conversationId === null) return;
  if (text) drafts.set(conversationId, text);
  else drafts.delete(conversationId);
}
