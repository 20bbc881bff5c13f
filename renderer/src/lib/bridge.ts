// The renderer's only way out: `window.heron`, put there by the Electron preload or by the
// headless host's bridge script. Nothing else from the main side is reachable from here.
import type { ErrorCode, HeronApi } from '../../../preload/contract';

export function findBridge(): HeronApi | null {
  const api = window.heron;
  return api && typeof api.invoke === 'function' && typeof api.on === 'function' ? api : null;
}

/** The user-facing text of a failed command (the bridge puts it in `.message`). */
export function errorMessage(err: unknown): string {
  if (err && typeof err === 'object' && 'message' in err && typeof err.message === 'string' && err.message) {
    return err.message;
  }
  return 'Something went wrong. Please try again.';
}

export function errorCode(err: unknown): ErrorCode | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') {
    return err.code as ErrorCode;
  }
  return undefined;
}

/** The payload field a failed command names, for forms to mark. */
export function errorField(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'field' in err && typeof err.field === 'string') return err.field;
  return undefined;
}
