// Public face of the core for the shell and the headless host. Nothing here imports electron.
export { createCore } from './core';
export type { Core, CoreOptions } from './core';
export { keytarVault } from './vault';
export type { Vault } from './vault';
export { CommandFailure } from './api';
export { fileLog } from './log';
export type { BackoffPolicy } from './accounts/backoff';
export type { KeepalivePolicy } from './features/keepalive';
export type { AttentionOptions, NotificationSink } from './attention/attention';
export { DEFAULT_NOTIFICATION_PREFS } from './attention/policy';
export type { Decision, Notice, NotificationPrefs } from './attention/policy';
