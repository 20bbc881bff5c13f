// A form's command, run once at a time: `busy` while it runs, `error` holds what went wrong.
import { errorMessage } from './bridge';

export class FormAction {
  busy = $state(false);
  error: string | null = $state(null);

  /** True when `command` succeeded; on failure `onError` sees the error too (e.g. to mark a field). */
  async run(command: () => Promise<unknown>, onError?: (err: unknown) => void): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.error = null;
    try {
      await command();
      return true;
    } catch (err) {
      this.error = errorMessage(err);
      onError?.(err);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
