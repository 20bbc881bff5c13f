// Automatic updates through electron-updater, only for a packaged build that was given a feed.
// electron-builder writes resources/app-update.yml only when the build has a `publish` setting
// (see README "Packaging"); without one there is nothing to ask, and asking would only log
// errors. A pure decision, so every case is tested.

export type UpdateFacts = {
  isPackaged: boolean;
  platform: NodeJS.Platform;
  /** resources/app-update.yml exists: the build was given a feed. */
  feedConfigured: boolean;
  env: Readonly<Record<string, string | undefined>>;
};

export type UpdateDecision = { check: true } | { check: false; reason: string };

export function decideUpdates(facts: UpdateFacts): UpdateDecision {
  if (!facts.isPackaged) return { check: false, reason: 'not a packaged build' };
  if (!facts.feedConfigured) return { check: false, reason: 'no update feed configured' };
  if (facts.env.HERON_DISABLE_UPDATES === '1') return { check: false, reason: 'HERON_DISABLE_UPDATES=1' };
  // On Linux only an AppImage can replace itself; deb and rpm are updated by their package manager.
  if (facts.platform === 'linux' && facts.env.APPIMAGE === undefined) {
    return { check: false, reason: 'installed from a package; the package manager updates it' };
  }
  return { check: true };
}
