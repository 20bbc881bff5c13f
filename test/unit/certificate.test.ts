// Which server certificates a session admits, and what a user is shown of a refused one.
import fs from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { admitPeer, CertificateError, describeCertificate } from '../../main/core/xmpp/certificate';
import { classifyFailure } from '../../main/core/accounts/failures';

// Issued by "Fixture CA" to chat.example.org, valid 2026–2126 (test/fixtures/certificates).
const cert = new X509Certificate(fs.readFileSync(new URL('../fixtures/certificates/chat.example.org.pem', import.meta.url)));
const FINGERPRINT = 'FC:F1:69:F5:27:98:8E:1C:35:32:E1:BE:28:71:09:50:B7:9A:9F:CB:94:5D:89:C4:0C:EC:B9:26:FA:3B:B6:A6';
const OTHER = FINGERPRINT.replace(/^FC/, '00');

describe('describeCertificate', () => {
  it('shows subject, issuer, names, validity and the SHA-256 fingerprint', () => {
    expect(describeCertificate(cert, null)).toEqual({
      subject: 'CN=chat.example.org, O=Example',
      issuer: 'CN=Fixture CA, O=Heron tests',
      names: ['chat.example.org', 'example.org'],
      validFrom: Date.UTC(2026, 10, 25, 21, 16, 47),
      validTo: Date.UTC(2126, 10, 1, 21, 16, 47),
      fingerprint: FINGERPRINT,
      replacesTrusted: false,
    });
  });

  it('says when it replaces a certificate the user trusted before', () => {
    expect(describeCertificate(cert, OTHER).replacesTrusted).toBe(true);
    expect(describeCertificate(cert, FINGERPRINT).replacesTrusted).toBe(false);
  });
});

describe('admitPeer', () => {
  const untrusted = { authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', certificate: cert };

  it('admits a certificate that passed validation, pinned or not', () => {
    expect(admitPeer({ authorized: true, certificate: cert }, null)).toBeUndefined();
    expect(admitPeer({ authorized: true, certificate: cert }, OTHER)).toBeUndefined();
  });

  it('admits an invalid certificate only when it is exactly the trusted one', () => {
    expect(admitPeer(untrusted, FINGERPRINT)).toBeUndefined();
    const refused = admitPeer(untrusted, OTHER);
    expect(refused).toBeInstanceOf(CertificateError);
    expect(refused?.message).toBe("The server's certificate changed since you trusted it, and it is not signed by an authority this computer trusts.");
  });

  it('refuses an invalid certificate with the reason in words and the details', () => {
    const cases: Array<[string, string]> = [
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'it is not signed by an authority this computer trusts'],
      ['DEPTH_ZERO_SELF_SIGNED_CERT', 'it is self-signed'],
      ['CERT_HAS_EXPIRED', 'it has expired'],
      ['ERR_TLS_CERT_ALTNAME_INVALID', 'it was issued for a different name'],
      ['SOMETHING_NEW', 'it failed validation (SOMETHING_NEW)'],
    ];
    for (const [code, words] of cases) {
      const refused = admitPeer({ ...untrusted, authorizationError: code }, null) as CertificateError;
      expect(refused.message).toBe(`The server's certificate was rejected: ${words}.`);
      expect(refused.certificate.fingerprint).toBe(FINGERPRINT);
    }
  });

  it('refuses a handshake without a certificate', () => {
    expect(admitPeer({ authorized: false, certificate: undefined }, FINGERPRINT)?.message).toMatch(/no certificate/);
  });

  it('becomes the cert-rejected state, never retried', () => {
    const refused = admitPeer(untrusted, null);
    expect(classifyFailure(refused)).toEqual({
      state: 'cert-rejected',
      reason: refused!.message,
      retry: false,
      certificate: describeCertificate(cert, null),
    });
  });
});
