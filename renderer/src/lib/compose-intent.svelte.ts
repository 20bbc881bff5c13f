// What the composer is doing besides writing a new message: answering one (a reply) or
// correcting one of mine (an edit). The message actions set it, the composer shows and
// clears it. One per open chat, shared through the Svelte context of the chat view.
import { getContext, setContext } from 'svelte';
import type { MessageView } from '../../../preload/contract';

export type Intent = { kind: 'reply'; message: MessageView; name: string } | { kind: 'edit'; message: MessageView };

/**
 * Whether I may correct or delete `m` for everyone: mine, a real message, not deleted yet. An
 * encrypted message's correction is encrypted like it.
 */
export function isMine(m: MessageView): boolean {
  return m.direction === 'out' && !m.gap && m.retractedAt === undefined;
}

export class ComposeIntent {
  current: Intent | null = $state.raw(null);
  readonly #messages: () => readonly MessageView[];

  /** `messages`: the chat's loaded window, oldest first (Up arrow edits the last of mine in it). */
  constructor(messages: () => readonly MessageView[]) {
    this.#messages = messages;
  }

  reply(message: MessageView, name: string): void {
    this.current = { kind: 'reply', message, name };
  }

  edit(message: MessageView): void {
    if (isMine(message)) this.current = { kind: 'edit', message };
  }

  /** Edits my latest message; false when there is none in the window. */
  editLast(): boolean {
    const list = this.#messages();
    for (let i = list.length - 1; i >= 0; i--) {
      if (isMine(list[i]!)) {
        this.edit(list[i]!);
        return true;
      }
    }
    return false;
  }

  cancel(): void {
    this.current = null;
  }
}

const KEY = Symbol('compose-intent');

export function setComposeIntent(intent: ComposeIntent): void {
  setContext(KEY, intent);
}

export function getComposeIntent(): ComposeIntent | undefined {
  return getContext<ComposeIntent | undefined>(KEY);
}
