// Strings for the window: `t('area.what', { values })` formats a catalogue message (ICU
// MessageFormat through intl-messageformat); dates and numbers go through Intl with the same
// locale. Only English exists so far: a translation adds a catalogue with the same keys and
// picks it in `catalogueFor`. Formatters are compiled once per key and kept.
import { IntlMessageFormat, type PrimitiveType } from 'intl-messageformat';
import { en, type MessageKey } from './en';

export type { MessageKey };

/** The UI language: the browser's, as long as we only have English it only shapes numbers and dates. */
export const locale: string = typeof navigator === 'undefined' ? 'en' : navigator.language || 'en';

const catalogue: Record<MessageKey, string> = en;
const compiled = new Map<MessageKey, IntlMessageFormat>();

/** The catalogue message `key`, with its placeholders filled from `values`. */
export function t(key: MessageKey, values?: Record<string, PrimitiveType>): string {
  let format = compiled.get(key);
  if (!format) {
    format = new IntlMessageFormat(catalogue[key], locale);
    compiled.set(key, format);
  }
  return String(format.format(values));
}

const numberFormat = new Intl.NumberFormat(locale);

/** A count as the locale writes it. */
export function formatNumber(n: number): string {
  return numberFormat.format(n);
}
