// Channel-binding data (RFC 5056) from the TLS connection, for SCRAM's -PLUS mechanisms:
// it ties the login to this very TLS session, so a man in the middle who terminates TLS
// himself (even with a certificate the user trusted) cannot relay the login.
import { createHash } from 'node:crypto';

export type BindingType = 'tls-exporter' | 'tls-unique' | 'tls-server-end-point';

/** What the TLS socket can tell; an interface so the choice can be tested without a handshake. */
export type TlsChannel = {
  /** 'TLSv1.3', 'TLSv1.2', … (tls.TLSSocket.getProtocol()). */
  protocol: string | null;
  exportKeyingMaterial(length: number, label: string): Buffer;
  /** The first Finished message of the latest handshake: ours in a full one, the server's in a resumed one. */
  finished(): Buffer | undefined;
  /** The server's certificate, DER. */
  certificate(): Buffer | undefined;
};

/**
 * Our order of preference: tls-exporter (RFC 9266) binds the whole TLS 1.3 session;
 * tls-unique (RFC 5929) does the same for TLS 1.2; tls-server-end-point binds only the
 * server's certificate, which still stops a man in the middle with a certificate of his own.
 */
export const BINDING_PREFERENCE: readonly BindingType[] = ['tls-exporter', 'tls-unique', 'tls-server-end-point'];

/** One DER element: its tag and where its contents lie. */
function readElement(der: Buffer, offset: number): { tag: number; start: number; end: number } {
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw new Error('unsupported DER length');
    length = 0;
    for (let k = 0; k < bytes; k++) length = length * 256 + der[start + k]!;
    start += bytes;
  }
  if (start + length > der.length) throw new Error('truncated DER');
  return { tag, start, end: start + length };
}

/** Signature algorithm OIDs (DER contents, hex) → the hash RFC 5929 §4.1 says to use. */
const END_POINT_HASH: Record<string, string> = {
  '2a864886f70d010104': 'sha256', // md5WithRSAEncryption: MD5 is replaced by SHA-256
  '2a864886f70d010105': 'sha256', // sha1WithRSAEncryption: SHA-1 likewise
  '2a864886f70d01010b': 'sha256',
  '2a864886f70d01010c': 'sha384',
  '2a864886f70d01010d': 'sha512',
  '2a8648ce3d040101': 'sha256', // ecdsa-with-SHA1
  '2a8648ce3d040302': 'sha256',
  '2a8648ce3d040303': 'sha384',
  '2a8648ce3d040304': 'sha512',
};

/**
 * RFC 5929 §4.1: the hash of the server's certificate, with the hash of its signature
 * algorithm. Undefined where that is not one hash (RSA-PSS parameters, EdDSA): no binding then.
 */
export function serverEndPoint(certificate: Buffer): Buffer | undefined {
  try {
    const outer = readElement(certificate, 0);
    const tbs = readElement(certificate, outer.start);
    const algorithm = readElement(certificate, tbs.end);
    const oid = readElement(certificate, algorithm.start);
    if (outer.tag !== 0x30 || algorithm.tag !== 0x30 || oid.tag !== 0x06) return undefined;
    const hash = END_POINT_HASH[certificate.subarray(oid.start, oid.end).toString('hex')];
    return hash ? createHash(hash).update(certificate).digest() : undefined;
  } catch {
    return undefined;
  }
}

/** The binding data of `type` on this channel, or undefined where Node cannot produce it soundly. */
export function bindingData(type: BindingType, channel: TlsChannel): Buffer | undefined {
  switch (type) {
    // RFC 9266 §3: on TLS 1.2 only with the extended master secret, which Node does not report.
    case 'tls-exporter':
      return channel.protocol === 'TLSv1.3' ? channel.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding') : undefined;
    // Undefined for TLS 1.3 (RFC 9266 §1).
    case 'tls-unique':
      return channel.protocol === 'TLSv1.2' ? channel.finished() : undefined;
    case 'tls-server-end-point': {
      const certificate = channel.certificate();
      return certificate && serverEndPoint(certificate);
    }
  }
}
