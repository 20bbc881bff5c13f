/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { HeronApi } from '../../preload/contract';

declare global {
  interface Window {
    /** Provided by the Electron preload, or by the headless host's bridge script. */
    heron?: HeronApi;
  }
}
