// electron-builder.yml as electron-builder reads it, for the lock-down and packaging tests.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// electron-builder's own YAML reader (it has no type declarations here).
const yaml = require('js-yaml') as { load(text: string): unknown };

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** What the tests look at; electron-builder's schema check (packaging.test.ts) covers the rest. */
export type BuilderConfig = {
  electronFuses: Record<string, boolean | undefined>;
  [key: string]: unknown;
};

export function loadBuilderConfig(): BuilderConfig {
  return yaml.load(readFileSync(`${repoRoot}/electron-builder.yml`, 'utf8')) as BuilderConfig;
}
