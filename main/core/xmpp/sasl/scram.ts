// The client side of SCRAM (RFC 5802; SHA-256 from RFC 7677), with everything the server says
// checked before it is used: its nonce must extend ours, the salt must be base64, the
// iteration count must lie within bounds, and its signature (`v=`) must prove it knows the
// password. Pure apart from node:crypto; the nonce is injected so the RFC examples can be replayed.
import { createHash, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

export type ScramHash = 'SHA-1' | 'SHA-256';

const NODE_HASH: Record<ScramHash, { name: string; bytes: number }> = {
  'SHA-1': { name: 'sha1', bytes: 20 },
  'SHA-256': { name: 'sha256', bytes: 32 },
};

/**
 * Bounds on the server's iteration count. Below 4096 (the floor RFC 5802 §5.1 and RFC 7677 §4
 * ask for) our proof would be cheap to brute-force for whoever receives it: a man in the
 * middle could lower the count on purpose. The cap, 1,000,000, leaves room above OWASP's
 * 600,000 for PBKDF2-SHA-256 while a server cannot make a login burn more than ~0.3–0.5 s of
 * one core (measured here, on a loaded machine), in libuv's thread pool, not the main thread.
 * Prosody 0.12 uses 10,000, ejabberd 4096.
 */
export const ITERATIONS = { min: 4096, max: 1_000_000 } as const;

/** What the client puts in its gs2 header: `p=` binds to the TLS channel, `y`/`n` do not. */
export type Gs2Binding = { flag: 'n' } | { flag: 'y' } | { flag: 'p'; type: string; data: Buffer };

/** The server broke the SCRAM exchange, or could not prove it knows the password. */
export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScramError';
  }
}

/**
 * RFC 4013 SASLprep, as far as it changes real-world input: non-ASCII spaces become a space,
 * characters "commonly mapped to nothing" go, then NFKC. Servers prepare the stored password
 * the same way, so both sides derive the same key for any password a person types.
 */
export function saslPrep(text: string): string {
  return text
    .replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, ' ')
    .replace(/[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g, '')
    .normalize('NFKC');
}

/** RFC 5802 §5.1: `=` and `,` in a username are escaped as =3D and =2C. */
function escapeUsername(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** RFC 5802 §7 `printable`: what a nonce may consist of (no comma). */
const PRINTABLE = /^[\x21-\x2B\x2D-\x7E]+$/;

function decodeBase64(value: string, what: string): Buffer {
  if (!value || !BASE64.test(value)) throw new ScramError(`The server sent a ${what} that is not valid base64.`);
  return Buffer.from(value, 'base64');
}

/** Splits `a=1,b=2` into its attributes, in order; refuses anything that is not `x=value`. */
function attributes(message: string, what: string): Array<[string, string]> {
  return message.split(',').map((part) => {
    const match = /^([A-Za-z])=(.*)$/s.exec(part);
    if (!match) throw new ScramError(`The server's ${what} is malformed.`);
    return [match[1]!, match[2]!];
  });
}

export type ServerFirst = { nonce: string; salt: Buffer; iterations: number };

/** RFC 5802 §5.1 server-first-message: `r=nonce,s=salt,i=count[,extensions]`. */
export function parseServerFirst(message: string, clientNonce: string): ServerFirst {
  const attrs = attributes(message, 'SCRAM challenge');
  const [r, s, i] = attrs;
  if (attrs[0]?.[0] === 'm') throw new ScramError('The server asks for a SCRAM extension Heron does not support.');
  if (r?.[0] !== 'r' || s?.[0] !== 's' || i?.[0] !== 'i') throw new ScramError("The server's SCRAM challenge is malformed.");
  const nonce = r[1];
  if (!PRINTABLE.test(nonce) || !nonce.startsWith(clientNonce) || nonce.length === clientNonce.length) {
    throw new ScramError("The server's SCRAM nonce does not extend Heron's: the login was not answered by the server asked.");
  }
  const salt = decodeBase64(s[1], 'SCRAM salt');
  if (!/^[1-9][0-9]{0,9}$/.test(i[1])) throw new ScramError("The server's SCRAM iteration count is not a number.");
  const iterations = Number(i[1]);
  if (iterations < ITERATIONS.min) {
    throw new ScramError(`The server asks for only ${iterations} SCRAM iterations (at least ${ITERATIONS.min} are needed to protect the password).`);
  }
  if (iterations > ITERATIONS.max) {
    throw new ScramError(`The server asks for ${iterations} SCRAM iterations (Heron computes at most ${ITERATIONS.max.toLocaleString('en')}).`);
  }
  return { nonce, salt, iterations };
}

/**
 * One SCRAM login. `first()` gives the client-first-message, `final()` answers the
 * server-first-message, `verify()` checks the server-final-message; each step only once, in order.
 */
export class ScramClient {
  private readonly gs2Header: string;
  private readonly firstBare: string;
  private expectedSignature: Buffer | undefined;

  constructor(
    private readonly hash: ScramHash,
    username: string,
    private readonly password: string,
    private readonly binding: Gs2Binding,
    private readonly nonce: string,
  ) {
    if (!PRINTABLE.test(nonce)) throw new Error('a SCRAM nonce must be printable');
    this.gs2Header = `${binding.flag === 'p' ? `p=${binding.type}` : binding.flag},,`;
    this.firstBare = `n=${escapeUsername(saslPrep(username))},r=${nonce}`;
  }

  first(): string {
    return this.gs2Header + this.firstBare;
  }

  async final(serverFirst: string): Promise<string> {
    const { nonce, salt, iterations } = parseServerFirst(serverFirst, this.nonce);
    const { name, bytes } = NODE_HASH[this.hash];
    const cbindInput = this.binding.flag === 'p' ? Buffer.concat([Buffer.from(this.gs2Header), this.binding.data]) : Buffer.from(this.gs2Header);
    const withoutProof = `c=${cbindInput.toString('base64')},r=${nonce}`;
    const authMessage = `${this.firstBare},${serverFirst},${withoutProof}`;
    // Asynchronous: the key derivation runs in libuv's thread pool, not on the main process.
    const salted = await pbkdf2Async(saslPrep(this.password), salt, iterations, bytes, name);
    const hmac = (key: Buffer, text: string) => createHmac(name, key).update(text).digest();
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash(name).update(clientKey).digest();
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(bytes);
    for (let k = 0; k < bytes; k++) proof[k] = clientKey[k]! ^ clientSignature[k]!;
    this.expectedSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** RFC 5802 §5.1 server-final-message: `v=signature` (or `e=error`). Throws unless the signature is the one expected. */
  verify(serverFinal: string): void {
    if (!this.expectedSignature) throw new ScramError('The server ended the SCRAM exchange before Heron sent its proof.');
    const [first] = attributes(serverFinal, 'SCRAM outcome');
    if (first?.[0] === 'e') throw new ScramError(`The server refused the login: ${first[1]}.`);
    if (first?.[0] !== 'v') throw new ScramError("The server's SCRAM outcome is malformed.");
    const signature = decodeBase64(first[1], 'SCRAM signature');
    const expected = this.expectedSignature;
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new ScramError('The server could not prove it knows your password: someone may be intercepting the connection.');
    }
  }
}
