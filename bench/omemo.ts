// `npm run bench -- omemo`: what OMEMO costs per message, beside the primitives it is made of.
//   primitives       X25519, XEdDSA sign/verify, HKDF, HMAC, AES-CBC/GCM on message-sized input
//   session setup    X3DH from a parsed bundle, and the first message accepted on the other side
//   encrypt N        one message for 10 and 100 devices with sessions built but not yet answered
//                    (each key still carries the key exchange, the heavier case), per version
//   decrypt          one message on the receiving device, in a running session
// Figures are the median (p50) and p95 of many timed runs, in milliseconds. The machine's other
// load shows in p95; compare figures from one run with each other, not across machines. Beside
// each OMEMO figure, its ratio to a floor made of this run's primitives: the work no
// implementation can skip (the DH, signature and symmetric steps the protocol prescribes).
import { performance } from 'node:perf_hooks';
import { generateIdentity, ownBundle, seedKeys } from '../main/core/omemo/keys';
import { decryptMessage, encryptMessage, startSession } from '../main/core/omemo/message';
import { bodyElement, buildEnvelope } from '../main/core/omemo/payload';
import {
  aesCbcEncrypt,
  aesGcmEncrypt,
  ed25519Verify,
  ed25519PublicKeyOf,
  hkdfSha256,
  hmacSha256,
  random,
  x25519,
  x25519PublicKey,
  xeddsaSign,
} from '../main/core/omemo/primitives';
import { LEGACY, OMEMO2, type Profile } from '../main/core/omemo/profile';
import { MemoryOmemoStore } from '../main/core/omemo/store';
import { summarize } from './stats';

const ms = (n: number) => n.toFixed(3).padStart(8);

const WARMUP = 5;

/** Times `runs` calls after WARMUP untimed ones (a task that uses up inputs needs runs + WARMUP); returns the p50. */
function time(label: string, runs: number, task: () => void, floor?: number): number {
  for (let i = 0; i < WARMUP; i++) task();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    task();
    samples.push(performance.now() - started);
  }
  const { p50, p95 } = summarize(samples);
  const ratio = floor === undefined ? '' : `   ${(p50 / floor).toFixed(1).padStart(5)}× the floor of ${floor.toFixed(3)} ms`;
  console.log(`${label.padEnd(44)} p50 ${ms(p50)} ms   p95 ${ms(p95)} ms   (${String(runs).padStart(3)} runs)${ratio}`);
  return p50;
}

/** The primitives' p50s, for the floors. */
type Costs = { dh: number; keypair: number; sign: number; verify: number; hkdf: number; hmac: number; cipher: number };

function primitives(): Costs {
  console.log('primitives');
  const a = random(32);
  const bPub = x25519PublicKey(random(32));
  const message = random(33);
  const signature = xeddsaSign(a, message);
  const edPub = ed25519PublicKeyOf(a);
  const key = random(32);
  const iv = random(16);
  const body = random(200);
  const dh = time('  X25519 shared secret', 200, () => x25519(a, bPub));
  const keypair = time('  X25519 public key', 200, () => x25519PublicKey(a));
  const sign = time('  XEdDSA sign', 200, () => xeddsaSign(a, message));
  const verify = time('  Ed25519 verify', 200, () => ed25519Verify(edPub, message, signature));
  const hkdf = time('  HKDF-SHA-256, 80 bytes', 500, () => hkdfSha256(key, key, 'OMEMO Payload', 80));
  const hmac = time('  HMAC-SHA-256, 200 bytes', 500, () => hmacSha256(key, body));
  const cbc = time('  AES-256-CBC, 200 bytes', 500, () => aesCbcEncrypt(key, iv, body));
  const gcm = time('  AES-128-GCM, 200 bytes', 500, () => aesGcmEncrypt(key.subarray(0, 16), iv.subarray(0, 12), body));
  return { dh, keypair, sign, verify, hkdf, hmac, cipher: Math.max(cbc, gcm) };
}

function device(profile: Profile): MemoryOmemoStore {
  const store = new MemoryOmemoStore(generateIdentity());
  seedKeys(profile, store, 0, 100);
  return store;
}

function content(profile: Profile): Uint8Array {
  const text = 'A message of ordinary length, about as long as people type in a chat window.';
  return profile.version === 'legacy'
    ? new TextEncoder().encode(text)
    : buildEnvelope({ content: [bodyElement(text)], from: 'alice@example.org', to: 'bob@example.org' });
}

function version(name: string, profile: Profile, cost: Costs): void {
  console.log(name);
  // X3DH: the signed prekey's signature checked, four DH (with a one-time prekey), and the
  // ratchet's first key pair and DH. A ratchet step: a KDF, a MAC and a cipher.
  const x3dh = cost.verify + 4 * cost.dh + cost.keypair + cost.dh;
  const step = cost.hkdf + cost.hmac + cost.cipher;
  const alice = device(profile);
  const bob = device(profile);
  const bobBundle = ownBundle(profile, bob);
  const bobAddress = { jid: 'bob@example.org', deviceId: bob.identity().deviceId };
  time('  session setup (X3DH, from the bundle)', 100, () => startSession(profile, alice, bobAddress, bobBundle), x3dh);
  // The first message accepted: X3DH on the receiving side plus the first ratchet step.
  const firsts = Array.from({ length: 50 + WARMUP }, (_, i) => {
    const sender = device(profile);
    // One prekey each, so no two senders pick the same one.
    startSession(profile, sender, bobAddress, { ...bobBundle, preKeys: [bobBundle.preKeys[i]!] });
    return { jid: `s${sender.identity().deviceId}@example.org`, element: encryptMessage(profile, sender, [bobAddress], content(profile)).element };
  });
  let next = 0;
  time('  first message accepted (X3DH + ratchet)', firsts.length - WARMUP, () => {
    const { jid, element } = firsts[next++]!;
    decryptMessage(profile, bob, jid, 'bob@example.org', element);
  }, x3dh + step);

  for (const count of [10, 100]) {
    const sender = device(profile);
    const recipients = Array.from({ length: count }, (_, i) => {
      const recipient = device(profile);
      const address = { jid: `r${i}@example.org`, deviceId: recipient.identity().deviceId };
      startSession(profile, sender, address, ownBundle(profile, recipient));
      return address;
    });
    // The message once, then its key for each device: one ratchet step each.
    time(`  encrypt one message for ${count} devices`, count === 10 ? 100 : 20, () => encryptMessage(profile, sender, recipients, content(profile)), step + count * step);
  }

  // A running session (answered, so no key exchange): decrypt one message per run.
  startSession(profile, alice, bobAddress, ownBundle(profile, bob));
  decryptMessage(profile, bob, 'alice@example.org', 'bob@example.org', encryptMessage(profile, alice, [bobAddress], content(profile)).element);
  const aliceAddress = { jid: 'alice@example.org', deviceId: alice.identity().deviceId };
  decryptMessage(profile, alice, 'bob@example.org', 'alice@example.org', encryptMessage(profile, bob, [aliceAddress], content(profile)).element);
  const messages = Array.from({ length: 200 + WARMUP }, () => encryptMessage(profile, alice, [bobAddress], content(profile)).element);
  let index = 0;
  time('  decrypt one message (running session)', messages.length - WARMUP, () => {
    decryptMessage(profile, bob, 'alice@example.org', 'bob@example.org', messages[index++]!);
  }, 2 * step);
}

export async function run(): Promise<void> {
  const cost = primitives();
  version('OMEMO 0.3 (eu.siacs.conversations.axolotl)', LEGACY, cost);
  version('OMEMO 2 (urn:xmpp:omemo:2)', OMEMO2, cost);
}
