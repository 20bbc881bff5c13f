// `npm run bench -- <suite> [options]`: runs one benchmark suite and prints its figures.
const suites: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  archive: () => import('./archive'),
  omemo: () => import('./omemo'),
  rooms: () => import('./rooms'),
  sync: () => import('./sync'),
  transport: () => import('./transport'),
  window: () => import('./window'),
};

const [suiteName, ...args] = process.argv.slice(2);
const suite = suiteName ? suites[suiteName] : undefined;
if (!suite) {
  console.error(`usage: npm run bench -- <suite> [options]\nsuites: ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
await (await suite()).run(args);

export {};
