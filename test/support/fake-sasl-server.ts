// A pretend XMPP server that speaks just enough to reach SASL (stream header, STARTTLS with
// a real test certificate, <mechanisms/>) and then answers SCRAM the way a man in the middle
// who does not know the password would. It never completes a login; it records what it saw.
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';

export type Misbehaviour =
  /** Answers the proof with <success/> carrying a signature made up without the password. */
  | 'wrong-signature'
  /** Answers the proof with an empty <success/>: no signature at all. */
  | 'no-signature'
  /** Its server-first-message carries a nonce that does not start with the client's. */
  | 'foreign-nonce'
  /** Answers <auth/> with <success/> at once: no challenge, no proof either way. */
  | 'no-challenge'
  /** Sends a made-up signature in a last challenge (the other way RFC 6120 allows). */
  | 'wrong-signature-in-challenge';

export type FakeSaslServer = {
  port: number;
  /** The mechanism of each <auth/> received, in order. */
  auths: string[];
  /** Each client-first-message received (decoded). */
  clientFirsts: string[];
  /** Each proof (client-final-message) received, decoded: a client that refuses early sends none. */
  proofs: string[];
  /** For each proof bound with p=tls-exporter: whether its binding data matched this TLS session's. */
  exporterMatches: boolean[];
  stop(): Promise<void>;
};

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string) => Buffer.from(text, 'base64').toString();

function header(domain: string): string {
  return `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='${domain}' id='${randomBytes(6).toString('hex')}' version='1.0'>`;
}

export async function startFakeSaslServer(options: {
  domain: string;
  key: string;
  cert: string;
  mechanisms: string[];
  /** Channel-binding types to announce (XEP-0440); none announced without it. */
  bindings?: string[];
  misbehave: Misbehaviour;
}): Promise<FakeSaslServer> {
  const seen = { auths: [] as string[], clientFirsts: [] as string[], proofs: [] as string[], exporterMatches: [] as boolean[] };
  const sockets = new Set<net.Socket>();

  const serve = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = '';
    let secure: tls.TLSSocket | undefined;
    let clientNonce = '';
    const write = (text: string) => (secure ?? socket).write(text);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (;;) {
        if (/<stream:stream[^>]*>/.test(buffer)) {
          buffer = buffer.replace(/^[\s\S]*?<stream:stream[^>]*>/, '');
          const features = secure
            ? `<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${options.mechanisms.map((m) => `<mechanism>${m}</mechanism>`).join('')}</mechanisms>` +
              (options.bindings
                ? `<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>${options.bindings.map((type) => `<channel-binding type='${type}'/>`).join('')}</sasl-channel-binding>`
                : '')
            : `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>`;
          write(`${header(options.domain)}<stream:features>${features}</stream:features>`);
          continue;
        }
        const starttls = /<starttls[^>]*\/>/.exec(buffer);
        if (starttls && !secure) {
          buffer = '';
          socket.off('data', onData);
          socket.write(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
          secure = new tls.TLSSocket(socket, { isServer: true, key: options.key, cert: options.cert });
          secure.on('data', onData);
          secure.on('error', () => {});
          return;
        }
        const auth = /<auth[^>]*mechanism=['"]([^'"]+)['"][^>]*>([^<]*)<\/auth>/.exec(buffer);
        if (auth) {
          buffer = buffer.slice(auth.index + auth[0].length);
          seen.auths.push(auth[1]!);
          const first = unb64(auth[2]!);
          seen.clientFirsts.push(first);
          if (options.misbehave === 'no-challenge') {
            write(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
            continue;
          }
          clientNonce = /,r=([^,]+)/.exec(first)?.[1] ?? '';
          const nonce = options.misbehave === 'foreign-nonce' ? randomBytes(18).toString('base64') : clientNonce + randomBytes(18).toString('base64');
          const serverFirst = `r=${nonce},s=${randomBytes(16).toString('base64')},i=4096`;
          write(`<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${b64(serverFirst)}</challenge>`);
          continue;
        }
        const response = /<response[^>]*>([^<]*)<\/response>/.exec(buffer);
        if (response) {
          buffer = buffer.slice(response.index + response[0].length);
          const proof = unb64(response[1]!);
          seen.proofs.push(proof);
          const binding = Buffer.from(/^c=([^,]*)/.exec(proof)?.[1] ?? '', 'base64');
          const gs2 = Buffer.from('p=tls-exporter,,');
          if (secure && binding.subarray(0, gs2.length).equals(gs2)) {
            const ours = secure.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
            seen.exporterMatches.push(binding.subarray(gs2.length).equals(ours));
          }
          const madeUp = b64(`v=${randomBytes(32).toString('base64')}`);
          if (options.misbehave === 'no-signature') write(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`);
          else if (options.misbehave === 'wrong-signature-in-challenge') write(`<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${madeUp}</challenge>`);
          else write(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${madeUp}</success>`);
          continue;
        }
        return;
      }
    };
    socket.on('data', onData);
  };

  const server = net.createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    ...seen,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
