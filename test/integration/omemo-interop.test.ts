// Heron's OMEMO core against Debian's python-omemo (oldmemo and twomemo backends), each side
// driving its own library: bundles, device lists and <encrypted/> elements cross as XML strings,
// as they would through PEP and message stanzas. No XMPP server is needed at this layer.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import parse from '@xmpp/xml/lib/parse.js';
import { afterEach, describe, expect, it } from 'vitest';
import { generateIdentity, ownBundle, replenishPreKeys, rotateSignedPreKey, seedKeys } from '../../main/core/omemo/keys';
import { decryptMessage, encryptMessage, startSession } from '../../main/core/omemo/message';
import { bodyElement, buildEnvelope, parseEnvelope } from '../../main/core/omemo/payload';
import { LEGACY, OMEMO2, type Profile } from '../../main/core/omemo/profile';
import { MemoryOmemoStore } from '../../main/core/omemo/store';
import { buildBundle, buildDeviceList, buildEncrypted, parseBundle, parseEncrypted } from '../../main/core/omemo/xml';

const PYTHON = '/usr/bin/python3';
const DRIVER = new URL('../support/omemo-peer.py', import.meta.url).pathname;
const HERON = 'heron@example.org';
const PY = 'python@example.org';

const probe = spawnSync(PYTHON, ['-c', 'import omemo, oldmemo, twomemo, xeddsa, xmlschema, oldmemo.etree, twomemo.etree'], { encoding: 'utf8' });
const missing = probe.status === 0 ? undefined : (probe.error?.message ?? probe.stderr.trim().split('\n').pop());
if (missing) {
  console.warn(
    `omemo-interop skipped: ${PYTHON} cannot import python-omemo (${missing}). Install: apt-get install python3-omemo python3-oldmemo python3-twomemo python3-xeddsa python3-xmlschema`,
  );
}

interface PeerReply {
  ok: boolean;
  error?: string;
  deviceId?: number;
  body?: string | null;
  encrypted?: string[];
  bundle: string;
  devices: string;
  outbox: { to: string; encrypted: string }[];
}

/** The python side: one SessionManager process for one version. */
class PythonPeer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (reply: PeerReply) => void; reject: (error: Error) => void }[] = [];
  private stderr = '';
  deviceId = 0;
  bundle = '';
  /** Messages python-omemo sent on its own (empty answers to key exchanges), not yet delivered. */
  outbox: string[] = [];

  constructor(version: 'legacy' | 'omemo2') {
    this.child = spawn(PYTHON, [DRIVER, version], { stdio: 'pipe' });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.resolve(JSON.parse(line) as PeerReply));
    this.child.on('exit', (code) => {
      for (const { reject } of this.waiting.splice(0)) reject(new Error(`python peer exited (${code}): ${this.stderr}`));
    });
  }

  async call(request: Record<string, unknown>): Promise<PeerReply> {
    const reply = await new Promise<PeerReply>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
    this.bundle = reply.bundle;
    this.outbox.push(...reply.outbox.map((m) => m.encrypted));
    if (!reply.ok) throw new Error(`python peer: ${reply.error}`);
    return reply;
  }

  async init(): Promise<void> {
    this.deviceId = (await this.call({ cmd: 'init', jid: PY })).deviceId!;
  }

  async decrypt(encrypted: string): Promise<string | null> {
    return (await this.call({ cmd: 'decrypt', from: HERON, encrypted })).body ?? null;
  }

  async encrypt(body: string): Promise<string> {
    const { encrypted } = await this.call({ cmd: 'encrypt', to: HERON, body });
    expect(encrypted).toHaveLength(1);
    return encrypted![0]!;
  }

  stop(): void {
    this.child.kill();
  }
}

/** The Heron side: the core with an in-memory store, speaking XML strings. */
class HeronDevice {
  readonly store = new MemoryOmemoStore(generateIdentity());

  constructor(private readonly profile: Profile) {
    seedKeys(profile, this.store, Date.now(), 20);
  }

  /** Publishes this device's bundle and the account's device list (this device and `others`). */
  async publishTo(peer: PythonPeer, others: HeronDevice[] = []): Promise<void> {
    const version = this.profile.version;
    const ids = [this, ...others].map((device) => ({ id: device.store.identity().deviceId, label: 'Heron' }));
    await peer.call({
      cmd: 'publish',
      jid: HERON,
      deviceId: this.store.identity().deviceId,
      devices: buildDeviceList(version, ids).toString(),
      bundle: buildBundle(version, ownBundle(this.profile, this.store)).toString(),
    });
  }

  startSessionWith(peer: PythonPeer): void {
    const bundle = parseBundle(this.profile.version, parse(peer.bundle));
    startSession(this.profile, this.store, { jid: PY, deviceId: peer.deviceId }, bundle);
  }

  encrypt(peer: PythonPeer, body: string): string {
    const content = this.profile.version === 'legacy' ? new TextEncoder().encode(body) : buildEnvelope({ content: [bodyElement(body)], from: HERON, to: PY });
    const { element, skipped } = encryptMessage(this.profile, this.store, [{ jid: PY, deviceId: peer.deviceId }], content);
    expect(skipped).toEqual([]);
    return buildEncrypted(this.profile.version, element).toString();
  }

  /** Decrypts; a used prekey is replaced and the bundle republished, as the feature module will. */
  async decrypt(peer: PythonPeer, encrypted: string): Promise<string | undefined> {
    const element = parseEncrypted(this.profile.version, parse(encrypted));
    const result = decryptMessage(this.profile, this.store, PY, HERON, element);
    if (result.usedPreKeyId !== undefined) {
      replenishPreKeys(this.store, 20);
      await this.publishTo(peer);
    }
    if (!result.content) return undefined;
    if (this.profile.version === 'legacy') return new TextDecoder().decode(result.content);
    const envelope = parseEnvelope(result.content, { from: PY, to: HERON });
    return envelope.content.find((child) => child.is('body', 'jabber:client'))?.text();
  }

  /** Delivers what python-omemo sent on its own; they are empty messages. */
  async drain(peer: PythonPeer): Promise<void> {
    for (const encrypted of peer.outbox.splice(0)) expect(await this.decrypt(peer, encrypted)).toBeUndefined();
  }

  keyExchangeIn(encrypted: string): boolean {
    return parseEncrypted(this.profile.version, parse(encrypted)).keys.some((k) => k.keyExchange);
  }
}

describe.skipIf(missing !== undefined).each([
  ['OMEMO 0.3 (python-oldmemo)', LEGACY],
  ['OMEMO 2 (python-twomemo)', OMEMO2],
] as const)('%s', (_name, profile) => {
  let peers: PythonPeer[] = [];
  afterEach(() => {
    for (const peer of peers) peer.stop();
    peers = [];
  });

  async function setup() {
    const peer = new PythonPeer(profile.version);
    peers.push(peer);
    await peer.init();
    const heron = new HeronDevice(profile);
    await heron.publishTo(peer);
    return { peer, heron };
  }

  it('Heron starts the session from python’s bundle; messages go both ways; the key exchange stops once answered', async () => {
    const { peer, heron } = await setup();
    heron.startSessionWith(peer);
    const first = heron.encrypt(peer, 'hello python');
    expect(heron.keyExchangeIn(first)).toBe(true);
    expect(await peer.decrypt(first)).toBe('hello python');
    // python-omemo answers a key exchange with an empty message: the session is confirmed.
    expect(peer.outbox).toHaveLength(1);
    await heron.drain(peer);
    const second = heron.encrypt(peer, 'second');
    expect(heron.keyExchangeIn(second)).toBe(false);
    expect(await peer.decrypt(second)).toBe('second');
    expect(await heron.decrypt(peer, await peer.encrypt('hello Heron, ünïcödé ✓'))).toBe('hello Heron, ünïcödé ✓');
    expect(await peer.decrypt(heron.encrypt(peer, 'third'))).toBe('third');
  });

  it('python starts the session from Heron’s bundle; Heron replies; python keeps the session', async () => {
    const { peer, heron } = await setup();
    const first = await peer.encrypt('hi from python');
    expect(heron.keyExchangeIn(first)).toBe(true);
    expect(await heron.decrypt(peer, first)).toBe('hi from python');
    expect(await peer.decrypt(heron.encrypt(peer, 'hi back'))).toBe('hi back');
    const next = await peer.encrypt('after the answer');
    expect(heron.keyExchangeIn(next)).toBe(false);
    expect(await heron.decrypt(peer, next)).toBe('after the answer');
  });

  it('a device that was offline: several key-exchange messages before any reply, both ways', async () => {
    const { peer, heron } = await setup();
    heron.startSessionWith(peer);
    const queued = ['one', 'two', 'three'].map((body) => heron.encrypt(peer, body));
    expect(queued.every((m) => heron.keyExchangeIn(m))).toBe(true);
    for (const [i, body] of ['one', 'two', 'three'].entries()) expect(await peer.decrypt(queued[i]!)).toBe(body);
    await heron.drain(peer);
    expect(await peer.decrypt(heron.encrypt(peer, 'settled'))).toBe('settled');

    const other = await setup();
    const fromPython = [await other.peer.encrypt('a'), await other.peer.encrypt('b'), await other.peer.encrypt('c')];
    expect(fromPython.every((m) => other.heron.keyExchangeIn(m))).toBe(true);
    for (const [i, body] of ['a', 'b', 'c'].entries()) expect(await other.heron.decrypt(other.peer, fromPython[i]!)).toBe(body);
    expect(await other.peer.decrypt(other.heron.encrypt(other.peer, 'got all three'))).toBe('got all three');
  });

  it('out-of-order delivery both ways, and a replayed message refused by Heron', async () => {
    const { peer, heron } = await setup();
    heron.startSessionWith(peer);
    expect(await peer.decrypt(heron.encrypt(peer, 'start'))).toBe('start');
    await heron.drain(peer);
    const toPython = ['m1', 'm2', 'm3'].map((body) => heron.encrypt(peer, body));
    expect(await peer.decrypt(toPython[2]!)).toBe('m3');
    expect(await peer.decrypt(toPython[0]!)).toBe('m1');
    expect(await peer.decrypt(toPython[1]!)).toBe('m2');
    const toHeron = [await peer.encrypt('p1'), await peer.encrypt('p2'), await peer.encrypt('p3')];
    expect(await heron.decrypt(peer, toHeron[1]!)).toBe('p2');
    expect(await heron.decrypt(peer, toHeron[2]!)).toBe('p3');
    expect(await heron.decrypt(peer, toHeron[0]!)).toBe('p1');
    await expect(heron.decrypt(peer, toHeron[0]!)).rejects.toMatchObject({ reason: 'duplicate' });
    expect(await heron.decrypt(peer, await peer.encrypt('still fine'))).toBe('still fine');
  });

  it('signed prekeys replaced on either side: old sessions go on, new ones use the new key', async () => {
    // python rotates: Heron's running session is unaffected; a second Heron device uses the new bundle.
    const { peer, heron } = await setup();
    heron.startSessionWith(peer);
    const oldSignedPreKey = parseBundle(profile.version, parse(peer.bundle)).signedPreKeyId;
    expect(await peer.decrypt(heron.encrypt(peer, 'before'))).toBe('before');
    await peer.call({ cmd: 'rotate' });
    expect(parseBundle(profile.version, parse(peer.bundle)).signedPreKeyId).not.toBe(oldSignedPreKey);
    expect(await peer.decrypt(heron.encrypt(peer, 'after python rotated'))).toBe('after python rotated');
    const laptop = new HeronDevice(profile);
    await laptop.publishTo(peer, [heron]);
    laptop.startSessionWith(peer);
    expect(await peer.decrypt(laptop.encrypt(peer, 'new session, new key'))).toBe('new session, new key');

    // Heron rotates while python's first message, built on the old key, is still on its way.
    const other = await setup();
    const inFlight = await other.peer.encrypt('sent before the rotation');
    rotateSignedPreKey(profile, other.heron.store, Date.now());
    await other.heron.publishTo(other.peer);
    expect(await other.heron.decrypt(other.peer, inFlight)).toBe('sent before the rotation');
    expect(await other.peer.decrypt(other.heron.encrypt(other.peer, 'answered'))).toBe('answered');
  });
});
