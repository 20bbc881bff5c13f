// Our chat state while writing (XEP-0085 §5): composing when typing starts, paused after a
// while without a key, active once the message is sent or the text cleared. Only changes
// are sent, so a burst of keys costs one notification, not one per key.
import type { ChatState } from '../../../preload/contract';

export const PAUSE_AFTER_MS = 5_000;

export class TypingNotifier {
  #state: ChatState = 'active';
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #send: (state: ChatState) => void;

  constructor(send: (state: ChatState) => void) {
    this.#send = send;
  }

  /** The text changed (by the user). */
  input(text: string): void {
    if (text.trim().length === 0) return this.stop();
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#change('paused'), PAUSE_AFTER_MS);
    this.#change('composing');
  }

  /** The message was sent, the text cleared, or writing stopped for now. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#change('active');
  }

  /** The chat is closed: nobody is writing here any more. */
  leave(): void {
    clearTimeout(this.#timer);
    if (this.#state !== 'active') this.#change('inactive');
  }

  #change(state: ChatState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#send(state);
  }
}
