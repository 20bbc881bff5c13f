// Just the parts of xmpp.js 0.14 that Heron composes; the packages ship no types.
declare module '@xmpp/xml' {
  export class Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: Array<Element | string>;
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getNS(): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getChildByAttr(attr: string, value: string, xmlns?: string, recursive?: boolean): Element | undefined;
    text(): string;
    append(...children: Array<Element | string>): Element;
    toString(): string;
    clone(): Element;
  }
  /** The stream parser (ltx underneath): `write(text)`, emitting start, element, end and error. */
  export class Parser {
    constructor();
    write(text: string): void;
    on(event: string, listener: (...args: never[]) => void): this;
    emit(event: string, ...args: unknown[]): boolean;
  }
  type Child = Element | string | null | undefined | false;
  export default function xml(name: string, attrs?: Record<string, string | number | undefined> | null, ...children: Array<Child | Child[]>): Element;
}

declare module '@xmpp/jid' {
  export class JID {
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    toString(): string;
    equals(other: JID): boolean;
  }
  export default function jid(value: string): JID;
  export function jid(local: string, domain: string, resource?: string): JID;
}

declare module '@xmpp/client-core' {
  import type { EventEmitter } from 'node:events';
  import type { Element } from '@xmpp/xml';
  import type { JID } from '@xmpp/jid';
  export class Client extends EventEmitter {
    constructor(options: { service: string; domain: string; lang?: string; timeout?: number });
    jid: JID | null;
    status: string;
    timeout: number;
    options: { service: string; domain: string; lang?: string };
    socket: unknown;
    transports: unknown[];
    isSecure(): boolean;
    start(): Promise<JID>;
    stop(): Promise<unknown>;
    disconnect(): Promise<unknown>;
    send(element: Element): Promise<void>;
    sendMany(elements: Element[]): Promise<void>;
    sendReceive(element: Element, timeout?: number): Promise<Element>;
    restart(): Promise<void>;
    connect(service: string): Promise<void>;
    open(options: { domain: string; lang?: string }): Promise<Element>;
    /** Writes raw text to the stream (a stream error and the closing tag). */
    write(text: string): Promise<void>;
  }
  export { default as xml } from '@xmpp/xml';
  export { default as jid } from '@xmpp/jid';
}

declare module '@xmpp/middleware' {
  import type { Client } from '@xmpp/client-core';
  import type { Element } from '@xmpp/xml';
  export type Context = { stanza: Element; entity: Client; from: unknown; to: unknown; id: string };
  export type Middleware = { use(fn: (ctx: Context, next: () => Promise<unknown>) => unknown): void; filter(fn: (ctx: Context, next: () => Promise<unknown>) => unknown): void };
  export default function middleware(deps: { entity: Client }): Middleware;
}

declare module '@xmpp/stream-features' {
  import type { Middleware, Context } from '@xmpp/middleware';
  import type { Element } from '@xmpp/xml';
  export type StreamFeatures = { use(name: string, xmlns: string, handler: (ctx: Context, next: () => Promise<unknown>, feature: Element) => unknown): void };
  export default function streamFeatures(deps: { middleware: Middleware }): StreamFeatures;
}

declare module '@xmpp/iq/caller.js' {
  import type { Client } from '@xmpp/client-core';
  import type { Middleware } from '@xmpp/middleware';
  import type { Element } from '@xmpp/xml';
  export type IqCaller = {
    request(stanza: Element, timeout?: number): Promise<Element>;
    get(child: Element, to?: string, timeout?: number): Promise<Element | undefined>;
    set(child: Element, to?: string, timeout?: number): Promise<Element | undefined>;
  };
  export default function iqCaller(deps: { middleware: Middleware; entity: Client }): IqCaller;
}

declare module '@xmpp/iq/callee.js' {
  import type { Client } from '@xmpp/client-core';
  import type { Middleware, Context } from '@xmpp/middleware';
  import type { Element } from '@xmpp/xml';
  type Handler = (ctx: Context) => Element | Record<string, never> | Promise<Element | Record<string, never>>;
  export type IqCallee = { get(ns: string, name: string, handler: Handler): void; set(ns: string, name: string, handler: Handler): void };
  export default function iqCallee(deps: { middleware: Middleware; entity: Client }): IqCallee;
}

declare module '@xmpp/resource-binding' {
  import type { IqCaller } from '@xmpp/iq/caller.js';
  import type { StreamFeatures } from '@xmpp/stream-features';
  export default function resourceBinding(deps: { iqCaller: IqCaller; streamFeatures: StreamFeatures }, resource: string): void;
}

declare module '@xmpp/stream-management' {
  import type { EventEmitter } from 'node:events';
  import type { Client } from '@xmpp/client-core';
  import type { Middleware } from '@xmpp/middleware';
  import type { StreamFeatures } from '@xmpp/stream-features';
  import type { Element } from '@xmpp/xml';
  export interface StreamManagement extends EventEmitter {
    enabled: boolean;
    id: string;
    /** Seconds the server keeps a dropped session for resumption, as it said on <enabled/>. */
    max: string | null;
    /** Stanzas sent on this stream and not yet acknowledged by the server. */
    outbound_q: Array<{ stanza: Element; stamp: string }>;
    /** Stanzas received and counted on this stream ('h' of our acks). */
    inbound: number;
    on(event: 'ack' | 'fail', listener: (stanza: Element) => void): this;
    on(event: 'resumed', listener: () => void): this;
  }
  export default function streamManagement(deps: { streamFeatures: StreamFeatures; entity: Client; middleware: Middleware }): StreamManagement;
}

declare module '@xmpp/tcp/lib/Connection.js' {
  export default class ConnectionTCP {
    /** The socket and parser classes the connection instantiates (set on the prototype). */
    Socket: unknown;
    Parser: unknown;
    socketParameters(service: string): Record<string, unknown> | undefined;
  }
}
declare module '@xmpp/tls/lib/Connection.js' {
  import ConnectionTCP from '@xmpp/tcp/lib/Connection.js';
  export default class ConnectionTLS extends ConnectionTCP {}
}
declare module '@xmpp/events' {
  export function promise<T = unknown>(target: unknown, event: string, rejectEvent?: string | null, timeout?: number): Promise<T>;
}
declare module '@xmpp/xml/lib/parse.js' {
  import type { Element } from '@xmpp/xml';
  export default function parse(text: string): Element;
}
