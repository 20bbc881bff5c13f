// The sandboxed preload: defines `window.heron` in the page and nothing else. It runs without
// Node's require, so scripts/build.mjs bundles it into one CommonJS file.
import { contextBridge, ipcRenderer } from 'electron';
import { createRawBridge, installHeron, type Channels } from './bridge';

// The channel names, read from the contract by scripts/build.mjs. Importing the contract here
// would bundle zod (about 450 kB) into every window for a handful of strings.
declare const HERON_CHANNELS: Channels;

contextBridge.executeInMainWorld({ func: installHeron, args: [createRawBridge(ipcRenderer, HERON_CHANNELS)] });
