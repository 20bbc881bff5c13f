#!/usr/bin/python3
"""Writes the known-answer vectors for main/core/omemo/primitives.ts, computed with Debian's
python3-xeddsa and python3-cryptography (the libraries python-omemo itself uses).
Run: /usr/bin/python3 test/support/omemo-vectors.py > test/fixtures/omemo-vectors.json"""
import hashlib, hmac, json
import xeddsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives import hashes


def det(label, n):
    """Deterministic test bytes, so the file is reproducible."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}/{i}".encode()).digest()
        i += 1
    return out[:n]


def hx(b):
    return b.hex()


xeddsa_vectors = []
for i in range(4):
    priv = det(f"xeddsa-priv-{i}", 32)
    msg = det(f"xeddsa-msg-{i}", 33 + i * 7)
    nonce = det(f"xeddsa-nonce-{i}", 64)
    forced = xeddsa.priv_force_sign(priv, False)
    xeddsa_vectors.append({
        "priv": hx(priv), "message": hx(msg), "nonce": hx(nonce),
        "curvePub": hx(xeddsa.priv_to_curve25519_pub(priv)),
        "edPub": hx(xeddsa.curve25519_pub_to_ed25519_pub(xeddsa.priv_to_curve25519_pub(priv), False)),
        "signature": hx(xeddsa.ed25519_priv_sign(forced, msg, nonce)),
    })

# A signature by a native Ed25519 key whose sign bit is 1, carried the libsignal way (the bit in
# signature[63]), as python-oldmemo publishes it.
for i in range(100):
    seed = det(f"signbit-seed-{i}", 32)
    if xeddsa.seed_to_ed25519_pub(seed)[31] & 0x80:
        break
msg = det("signbit-msg", 33)
sig = bytearray(xeddsa.ed25519_seed_sign(seed, msg))
sig[63] |= 0x80
sign_bit_vector = {
    "curvePub": hx(xeddsa.ed25519_pub_to_curve25519_pub(xeddsa.seed_to_ed25519_pub(seed))),
    "message": hx(msg), "signature": hx(bytes(sig)),
}

conversion = []
for i in range(3):
    priv = det(f"conv-{i}", 32)
    u = xeddsa.priv_to_curve25519_pub(priv)
    conversion.append({"curvePub": hx(u),
                       "ed0": hx(xeddsa.curve25519_pub_to_ed25519_pub(u, False)),
                       "ed1": hx(xeddsa.curve25519_pub_to_ed25519_pub(u, True))})

x25519 = []
for i in range(3):
    a, b = det(f"x-a-{i}", 32), det(f"x-b-{i}", 32)
    x25519.append({"priv": hx(a), "pub": hx(xeddsa.priv_to_curve25519_pub(b)),
                   "ownPub": hx(xeddsa.priv_to_curve25519_pub(a)), "shared": hx(xeddsa.x25519(a, xeddsa.priv_to_curve25519_pub(b)))})

hkdf = []
for info, n in (("OMEMO Payload", 80), ("WhisperText", 32), ("OMEMO Root Chain", 64)):
    ikm, salt = det(f"hkdf-ikm-{info}", 45), det(f"hkdf-salt-{info}", 32)
    hkdf.append({"ikm": hx(ikm), "salt": hx(salt), "info": info, "length": n,
                 "okm": hx(HKDF(hashes.SHA256(), n, salt, info.encode()).derive(ikm))})

hmacs = [{"key": hx(det(f"hmac-key-{i}", 32)), "data": hx(det(f"hmac-data-{i}", 7 + 50 * i)),
          "mac": hx(hmac.new(det(f"hmac-key-{i}", 32), det(f"hmac-data-{i}", 7 + 50 * i), hashlib.sha256).digest())}
         for i in range(2)]

cbc = []
for i, n in enumerate((0, 15, 16, 70)):
    key, iv, pt = det(f"cbc-key-{i}", 32), det(f"cbc-iv-{i}", 16), det(f"cbc-pt-{i}", n)
    padder = padding.PKCS7(128).padder()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    cbc.append({"key": hx(key), "iv": hx(iv), "plaintext": hx(pt),
                "ciphertext": hx(enc.update(padder.update(pt) + padder.finalize()) + enc.finalize())})

gcm = []
for i, (klen, n) in enumerate(((16, 0), (16, 37), (32, 64))):
    key, iv, pt = det(f"gcm-key-{i}", klen), det(f"gcm-iv-{i}", 12), det(f"gcm-pt-{i}", n)
    enc = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
    ct = enc.update(pt) + enc.finalize()
    gcm.append({"key": hx(key), "iv": hx(iv), "plaintext": hx(pt), "ciphertext": hx(ct), "tag": hx(enc.tag)})

# The two profiles: a ratchet message sealed by each backend's own AEAD (HKDF info, CBC, MAC
# length, protobuf layout), the chain KDFs, and the key exchange wrapping.
import asyncio
import doubleratchet
import x3dh
import oldmemo.oldmemo as old
import twomemo.twomemo as two


def profile_vectors(module, identity_len):
    message_key = det(f"{module.__name__}-mk", 32)
    ad = det(f"{module.__name__}-ad", identity_len * 2)
    ratchet_pub = xeddsa.priv_to_curve25519_pub(det(f"{module.__name__}-ratchet", 32))
    header = doubleratchet.Header(ratchet_pub, 3, 7)
    plaintext = det(f"{module.__name__}-pt", 48)
    sealed = asyncio.run(module.AEADImpl.encrypt(plaintext, message_key,
                                                 module.DoubleRatchetImpl._build_associated_data(ad, header)))
    root_key, dh_out = det(f"{module.__name__}-rk", 32), det(f"{module.__name__}-dh", 32)
    chain_key = det(f"{module.__name__}-ck", 32)
    identity_ed = xeddsa.seed_to_ed25519_pub(det(f"{module.__name__}-ik", 32))
    base_key = xeddsa.priv_to_curve25519_pub(det(f"{module.__name__}-ek", 32))
    exchange = module.KeyExchangeImpl(x3dh.Header(identity_ed, base_key, b"", b""), 11, 42).serialize(sealed)
    if isinstance(exchange, tuple):
        exchange = exchange[0]
    return {
        "messageKey": hx(message_key), "associatedData": hx(ad), "ratchetKey": hx(ratchet_pub),
        "n": 7, "pn": 3, "plaintext": hx(plaintext), "sealed": hx(sealed),
        "rootKey": hx(root_key), "dhOutput": hx(dh_out),
        "rootStep": hx(asyncio.run(module.RootChainKDFImpl.derive(root_key, dh_out, 64))),
        "chainKey": hx(chain_key),
        "chainStep": hx(asyncio.run(module.MessageChainKDFImpl.derive(chain_key, b"\x02\x01", 64))),
        "identityEd": hx(identity_ed), "identityCurve": hx(xeddsa.ed25519_pub_to_curve25519_pub(identity_ed)),
        "baseKey": hx(base_key), "signedPreKeyId": 11, "preKeyId": 42, "keyExchange": hx(exchange),
    }


profiles = {"legacy": profile_vectors(old, 33), "omemo2": profile_vectors(two, 32)}

print(json.dumps({"profiles": profiles, "xeddsa": xeddsa_vectors, "signBit": sign_bit_vector, "conversion": conversion,
                  "x25519": x25519, "hkdf": hkdf, "hmac": hmacs, "cbc": cbc, "gcm": gcm}, indent=1))
