// Turns what went wrong on a connection into something a user can read and act on, and
// decides whether retrying could help (a wrong password never gets better by retrying).
import type { CertificateView, ConnectionState } from '../../../preload/contract';

export type Failure = {
  state: Extract<ConnectionState, 'auth-failed' | 'cert-rejected' | 'error'>;
  reason: string;
  retry: boolean;
  certificate?: CertificateView;
  /** The login would have been PLAIN for an account that used SCRAM before; the user may allow it. */
  plainRefused?: true;
};

type ErrorLike = {
  name?: string;
  message?: string;
  code?: string;
  condition?: string;
  text?: string;
  hostname?: string;
  certificate?: CertificateView;
};

const SASL_REASONS: Record<string, string> = {
  'not-authorized': 'Wrong address or password.',
  'account-disabled': 'The server has disabled this account.',
  'credentials-expired': 'The password has expired; change it with your provider.',
  'encryption-required': 'The server requires a stronger encryption.',
  'invalid-mechanism': 'The server refused the login method.',
  'temporary-auth-failure': 'The server could not check the password right now.',
};

const STREAM_REASONS: Record<string, string> = {
  conflict: 'Another client logged in with the same resource and replaced this connection.',
  'host-unknown': 'The server does not serve this domain.',
  'policy-violation': 'The server closed the connection for a policy violation.',
  'system-shutdown': 'The server is shutting down.',
  'connection-timeout': 'The server closed an idle connection.',
  'not-authorized': 'The server refused the session.',
  'see-other-host': 'The server redirected to another host.',
};

export function classifyFailure(error: unknown): Failure {
  const e = (error ?? {}) as ErrorLike;
  const detail = e.text ? ` (${e.text})` : '';
  if (e.name === 'SASLError') {
    const retry = e.condition === 'temporary-auth-failure';
    const reason = SASL_REASONS[e.condition ?? ''] ?? `Login refused: ${e.condition ?? 'unknown reason'}.`;
    return { state: retry ? 'error' : 'auth-failed', reason: reason + detail, retry };
  }
  if (e.name === 'StreamError') {
    const reason = STREAM_REASONS[e.condition ?? ''] ?? `The server ended the stream: ${e.condition ?? 'unknown'}.`;
    // A replaced session must not fight back in a loop; everything else may recover.
    return { state: 'error', reason: reason + detail, retry: e.condition !== 'conflict' };
  }
  // Our own SASL (xmpp/sasl) refusing a server: retrying would meet the same server.
  if (e.name === 'PlainRefusedError') return { state: 'auth-failed', reason: e.message ?? 'PLAIN refused.', retry: false, plainRefused: true };
  if (e.name === 'ScramError') return { state: 'auth-failed', reason: e.message ?? 'The login failed.', retry: false };
  if (e.name === 'NoMechanismError') return { state: 'error', reason: e.message ?? 'No login method in common.', retry: false };
  // Already in words (vault.ts); it may come back (the user logs in to a desktop session).
  if (e.name === 'VaultError') return { state: 'error', reason: e.message ?? 'The system keychain failed.', retry: true };
  if (e.name === 'InsecureStreamError') return { state: 'error', reason: e.message ?? 'No TLS offered.', retry: false };
  // Written into the stream by someone on the network path, or an odd server: another attempt
  // (with backoff) may well go through, and the reason stays on screen meanwhile.
  if (e.name === 'PrematureStanzaError') return { state: 'error', reason: e.message ?? 'A stanza arrived before the login.', retry: true };
  if (e.name === 'ElementTooLargeError') return { state: 'error', reason: e.message ?? 'The server sent too much at once.', retry: true };
  if (e.name === 'RedirectRefusedError') return { state: 'error', reason: e.message ?? 'The server redirected elsewhere.', retry: true };
  // The session refuses certificates itself (xmpp/certificate.ts) and says what it saw.
  if (e.name === 'CertificateError' && e.certificate) {
    return { state: 'cert-rejected', reason: e.message ?? "The server's certificate was rejected.", retry: false, certificate: e.certificate };
  }
  switch (e.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { state: 'error', reason: `Server not found${e.hostname ? `: ${e.hostname}` : ''}.`, retry: true };
    case 'ECONNREFUSED':
      return { state: 'error', reason: 'The server refused the connection.', retry: true };
    case 'ETIMEDOUT':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return { state: 'error', reason: `The network connection failed (${e.code}).`, retry: true };
  }
  if (e.name === 'TimeoutError') return { state: 'error', reason: 'The server did not answer in time.', retry: true };
  return { state: 'error', reason: e.message ? `Connection failed: ${e.message}` : 'Connection failed.', retry: true };
}

/** Errors that mean a server (or someone posing as one) spoke: another address would not help. */
const STREAM_REACHED = new Set(['StreamError', 'SASLError', 'PrematureStanzaError', 'ElementTooLargeError', 'RedirectRefusedError']);

/**
 * Whether the next address of the server is worth trying after this error: only when no
 * stream could be had here (a refused or reset connection, a TLS handshake that failed).
 */
export function worthAnotherEndpoint(error: unknown): boolean {
  return classifyFailure(error).retry && !STREAM_REACHED.has((error as ErrorLike | undefined)?.name ?? '');
}

/** One line for the log, never empty: some errors (a timeout) carry no message of their own. */
export function describeError(error: unknown): string {
  const e = (error ?? {}) as ErrorLike;
  const name = e.name ?? 'Error';
  return e.message ? `${name}: ${e.message}` : `${name}: ${classifyFailure(error).reason}`;
}
