// xmpp: links reach the one running Heron: from the command line of the first start, from a
// second instance's command line (`second-instance`; that instance then quits, main.ts) and
// from macOS `open-url`. Electron objects come in as parameters, so this runs under Node in tests.
import type { App } from 'electron';

/** Links held until the core is up; more than this many waiting push out the oldest. */
const MAX_PENDING = 10;

/** The xmpp: link on a command line, if any: never a switch, and the last one wins. */
export function uriFromArgv(argv: readonly string[]): string | undefined {
  return argv.findLast((arg) => /^xmpp:/i.test(arg));
}

/** Hands links to `deliver` once there is one; keeps those that come earlier (macOS opens before ready). */
export class UriRelay {
  #pending: string[] = [];
  #deliver: ((uri: string) => void) | undefined;

  hand(uri: string): void {
    if (this.#deliver) this.#deliver(uri);
    else this.#pending = [...this.#pending, uri].slice(-MAX_PENDING);
  }

  /** Whether links go straight through (the core is up), or wait. */
  get delivering(): boolean {
    return this.#deliver !== undefined;
  }

  attach(deliver: (uri: string) => void): void {
    this.#deliver = deliver;
    const pending = this.#pending;
    this.#pending = [];
    for (const uri of pending) deliver(uri);
  }
}

type UriApp = Pick<App, 'on'>;

/** Before `ready`: macOS sends the link that launched the app as open-url right away. */
export function listenForOpenUrl(app: UriApp, relay: UriRelay, show: () => void): void {
  app.on('open-url', (event, url) => {
    event.preventDefault();
    relay.hand(url);
    show();
  });
}

/** Once the window can be opened: a second start shows it and hands over its link. */
export function listenForSecondInstance(app: UriApp, relay: UriRelay, show: () => void): void {
  app.on('second-instance', (_event, argv) => {
    const uri = uriFromArgv(argv);
    if (uri !== undefined) relay.hand(uri);
    show();
  });
}
