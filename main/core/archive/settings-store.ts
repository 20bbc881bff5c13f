// The app's settings documents (JSON text by key; settings.ts reads and validates them).
import { Store } from './store';

export class SettingsStore extends Store {
  /** A stored settings document (JSON text), or undefined when never saved. */
  get(key: string): string | undefined {
    return this.sql<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get(key)?.value;
  }

  put(key: string, value: string): void {
    this.sql('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }
}
