import { describe, expect, it } from 'vitest';
import { ITERATIONS, ScramClient, ScramError, parseServerFirst, saslPrep } from '../../main/core/xmpp/sasl/scram';

// The example exchanges of RFC 5802 §5 (SHA-1) and RFC 7677 §3 (SHA-256): user "user", password "pencil".
const RFC5802 = {
  nonce: 'fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};
const RFC7677 = {
  nonce: 'rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

describe('SCRAM, replaying the RFC examples', () => {
  it('SCRAM-SHA-1 (RFC 5802) gives the same messages and accepts the server signature', async () => {
    const client = new ScramClient('SHA-1', 'user', 'pencil', { flag: 'n' }, RFC5802.nonce);
    expect(client.first()).toBe(`n,,n=user,r=${RFC5802.nonce}`);
    expect(await client.final(RFC5802.serverFirst)).toBe(RFC5802.clientFinal);
    expect(() => client.verify(RFC5802.serverFinal)).not.toThrow();
  });

  it('SCRAM-SHA-256 (RFC 7677) gives the same messages and accepts the server signature', async () => {
    const client = new ScramClient('SHA-256', 'user', 'pencil', { flag: 'n' }, RFC7677.nonce);
    expect(client.first()).toBe(`n,,n=user,r=${RFC7677.nonce}`);
    expect(await client.final(RFC7677.serverFirst)).toBe(RFC7677.clientFinal);
    expect(() => client.verify(RFC7677.serverFinal)).not.toThrow();
  });
});

describe('SCRAM refuses a server that cannot prove itself', () => {
  const answered = async () => {
    const client = new ScramClient('SHA-256', 'user', 'pencil', { flag: 'n' }, RFC7677.nonce);
    await client.final(RFC7677.serverFirst);
    return client;
  };

  it('refuses a wrong signature, one of the wrong length, and a missing one', async () => {
    const client = await answered();
    const wrong = Buffer.from(RFC7677.serverFinal.slice(2), 'base64');
    wrong[0]! ^= 1;
    expect(() => client.verify(`v=${wrong.toString('base64')}`)).toThrow(/could not prove it knows your password/);
    expect(() => client.verify(RFC5802.serverFinal)).toThrow(/could not prove it knows your password/);
    expect(() => client.verify('x=1')).toThrow(/malformed/);
    expect(() => client.verify('v=***')).toThrow(/not valid base64/);
  });

  it('refuses the signature for another password', async () => {
    const other = new ScramClient('SHA-256', 'user', 'pencil!', { flag: 'n' }, RFC7677.nonce);
    await other.final(RFC7677.serverFirst);
    expect(() => other.verify(RFC7677.serverFinal)).toThrow(ScramError);
  });

  it('reports a server error (e=) in words and a verify before the proof as an error', async () => {
    expect(() => (new ScramClient('SHA-1', 'u', 'p', { flag: 'n' }, 'abc')).verify(RFC5802.serverFinal)).toThrow(/before Heron sent its proof/);
    const client = await answered();
    expect(() => client.verify('e=invalid-proof')).toThrow(/refused the login: invalid-proof/);
  });
});

describe('SCRAM server-first-message checks', () => {
  const nonce = 'ourNonce';
  it('refuses a nonce that does not extend ours, or only repeats it', () => {
    expect(() => parseServerFirst('r=theirNonce,s=QSXCR+Q6sek8bf92,i=4096', nonce)).toThrow(/does not extend Heron's/);
    expect(() => parseServerFirst('r=ourNonc,s=QSXCR+Q6sek8bf92,i=4096', nonce)).toThrow(/does not extend Heron's/);
    expect(() => parseServerFirst('r=ourNonce,s=QSXCR+Q6sek8bf92,i=4096', nonce)).toThrow(/does not extend Heron's/);
    expect(parseServerFirst('r=ourNonceMore,s=QSXCR+Q6sek8bf92,i=4096', nonce).nonce).toBe('ourNonceMore');
  });

  it('refuses iteration counts out of bounds or not a number', () => {
    const at = (i: string) => () => parseServerFirst(`r=ourNonceX,s=QSXCR+Q6sek8bf92,i=${i}`, nonce);
    expect(at('4095')).toThrow(/only 4095 SCRAM iterations/);
    expect(at('1')).toThrow(/only 1 SCRAM iterations/);
    expect(at(String(ITERATIONS.max + 1))).toThrow(/Heron computes at most 1,000,000/);
    expect(at('99999999999')).toThrow(/not a number/);
    expect(at('0x1000')).toThrow(/not a number/);
    expect(at('')).toThrow(/not a number/);
    expect(at('4096').call(null).iterations).toBe(4096);
    expect(at(String(ITERATIONS.max)).call(null).iterations).toBe(ITERATIONS.max);
  });

  it('refuses a salt that is not base64, or empty', () => {
    expect(() => parseServerFirst('r=ourNonceX,s=not base64!,i=4096', nonce)).toThrow(/salt that is not valid base64/);
    expect(() => parseServerFirst('r=ourNonceX,s=QSXCR,i=4096', nonce)).toThrow(/salt that is not valid base64/);
    expect(() => parseServerFirst('r=ourNonceX,s=,i=4096', nonce)).toThrow(/salt that is not valid base64/);
  });

  it('refuses malformed messages and a mandatory extension', () => {
    for (const message of ['', 'garbage', 'r=ourNonceX', 's=QSXCR+Q6sek8bf92,r=ourNonceX,i=4096', 'r=ourNonceX,s=QSXCR+Q6sek8bf92', 'r=ourNonceX,,i=4096']) {
      expect(() => parseServerFirst(message, nonce), message).toThrow(ScramError);
    }
    expect(() => parseServerFirst('m=ext,r=ourNonceX,s=QSXCR+Q6sek8bf92,i=4096', nonce)).toThrow(/extension Heron does not support/);
    expect(() => parseServerFirst('r=ourNonce X,s=QSXCR+Q6sek8bf92,i=4096', nonce)).toThrow(/does not extend/);
  });

  it('accepts extensions after the count', () => {
    expect(parseServerFirst('r=ourNonceX,s=QSXCR+Q6sek8bf92,i=4096,d=abc', nonce).iterations).toBe(4096);
  });
});

describe('SCRAM client messages', () => {
  it('escapes = and , in the username and binds to the channel with p=', async () => {
    const data = Buffer.from('binding-data');
    const client = new ScramClient('SHA-256', 'a=b,c', 'pencil', { flag: 'p', type: 'tls-exporter', data }, 'nonce');
    expect(client.first()).toBe('p=tls-exporter,,n=a=3Db=2Cc,r=nonce');
    const final = await client.final('r=nonceServer,s=QSXCR+Q6sek8bf92,i=4096');
    const c = /^c=([^,]+),/.exec(final)![1]!;
    expect(Buffer.from(c, 'base64').toString()).toBe('p=tls-exporter,,binding-data');
  });

  it('says y when it could bind but the server offered no -PLUS', async () => {
    const client = new ScramClient('SHA-1', 'user', 'pencil', { flag: 'y' }, 'nonce');
    expect(client.first()).toBe('y,,n=user,r=nonce');
    expect(await client.final('r=nonceServer,s=QSXCR+Q6sek8bf92,i=4096')).toMatch(/^c=eSws,r=nonceServer,p=/);
  });

  it('prepares names and passwords as SASLprep does', () => {
    expect(saslPrep('I\u00ADX')).toBe('IX');
    expect(saslPrep('a\u00A0b')).toBe('a b');
    expect(saslPrep('\u2168')).toBe('IX');
    expect(saslPrep('user')).toBe('user');
  });
});
