// Deciding whether a server's TLS certificate is admitted, and describing a refused one so
// the user can judge it. Node verifies the chain and (through our checkServerIdentity) the
// name either way; the only exception we make is the exact certificate the user trusted.
import type { X509Certificate } from 'node:crypto';
import type { CertificateView } from '../../../preload/contract';

/** Why OpenSSL / Node refused a certificate, in words (keyed by `authorizationError`). */
const PROBLEMS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it is not signed by an authority this computer trusts',
  UNABLE_TO_GET_ISSUER_CERT: 'it is not signed by an authority this computer trusts',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it is not signed by an authority this computer trusts',
  SELF_SIGNED_CERT_IN_CHAIN: 'it is not signed by an authority this computer trusts',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'it was issued for a different name',
  CERT_REVOKED: 'it has been revoked',
};

export class CertificateError extends Error {
  constructor(
    readonly certificate: CertificateView,
    problem: string,
  ) {
    super(
      certificate.replacesTrusted
        ? `The server's certificate changed since you trusted it, and ${problem}.`
        : `The server's certificate was rejected: ${problem}.`,
    );
    this.name = 'CertificateError';
  }
}

/** "CN=a\nO=b" (OpenSSL's one-per-line form) → "CN=a, O=b". */
function distinguishedName(lines: string): string {
  return lines.split('\n').filter(Boolean).join(', ');
}

export function describeCertificate(cert: X509Certificate, trustedFingerprint: string | null): CertificateView {
  const names = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    names,
    validFrom: Date.parse(cert.validFrom),
    validTo: Date.parse(cert.validTo),
    fingerprint: cert.fingerprint256,
    replacesTrusted: trustedFingerprint !== null && trustedFingerprint !== cert.fingerprint256,
  };
}

export type PeerVerdict = {
  /** Node's verdict on chain and name: true only when both are valid. */
  authorized: boolean;
  /** Node's reason when not authorized (an OpenSSL code or ERR_TLS_CERT_ALTNAME_INVALID). */
  authorizationError?: string | Error;
  certificate: X509Certificate | undefined;
};

/**
 * Admits a valid certificate, or exactly the one the user trusted (`pin`, a SHA-256
 * fingerprint); anything else is refused with its details. Pure: given what the TLS
 * handshake reported, it returns undefined (admit) or the error to close the socket with.
 */
export function admitPeer(peer: PeerVerdict, pin: string | null): CertificateError | Error | undefined {
  if (peer.authorized) return undefined;
  const cert = peer.certificate;
  if (!cert) return new Error('The server presented no certificate.');
  if (pin !== null && cert.fingerprint256 === pin) return undefined;
  const code = String(peer.authorizationError ?? '');
  return new CertificateError(describeCertificate(cert, pin), PROBLEMS[code] ?? `it failed validation (${code || 'unknown reason'})`);
}
