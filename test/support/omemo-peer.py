#!/usr/bin/python3
"""An OMEMO peer for the interop tests, driving Debian's python-omemo SessionManager with the
oldmemo (eu.siacs.conversations.axolotl) or twomemo (urn:xmpp:omemo:2) backend.

Speaks JSON lines on stdin/stdout. The "server" is a dict here: Heron publishes its device list
and bundle with the `publish` command; what python-omemo publishes or sends is returned as XML
strings. Every reply carries `outbox`: the messages python-omemo sent on its own (it answers a
key exchange with an empty message), for the test to deliver or hold back.

Run with /usr/bin/python3 (Debian's interpreter, where the packages are installed)."""
import asyncio
import json
import sys
import xml.etree.ElementTree as ET

import omemo
from omemo.storage import Just, Nothing

NAMESPACE = sys.argv[1]  # "legacy" or "omemo2"
if NAMESPACE == "legacy":
    import oldmemo as backend_module
    import oldmemo.etree as etree
    NS = backend_module.oldmemo.NAMESPACE
else:
    import twomemo as backend_module
    import twomemo.etree as etree
    NS = backend_module.twomemo.NAMESPACE
SCE = "urn:xmpp:sce:1"
CLIENT = "jabber:client"

# The fake PEP service: bare JID -> device list XML, (bare JID, device id) -> bundle XML.
device_lists = {}
bundles = {}
own = {"jid": None, "bundle": None, "devices": None}
outbox = []


class MemoryStorage(omemo.Storage):
    def __init__(self):
        super().__init__(True)
        self.data = {}

    async def _load(self, key):
        return Just(self.data[key]) if key in self.data else Nothing()

    async def _store(self, key, value):
        self.data[key] = value

    async def _delete(self, key):
        self.data.pop(key, None)


class Peer(omemo.SessionManager):
    @staticmethod
    async def _upload_bundle(bundle):
        own["bundle"] = ET.tostring(etree.serialize_bundle(bundle), encoding="unicode")

    @staticmethod
    async def _download_bundle(namespace, bare_jid, device_id):
        xml = bundles.get((bare_jid, device_id))
        if xml is None:
            raise omemo.BundleDownloadFailed(f"no bundle for {bare_jid}/{device_id}")
        return etree.parse_bundle(ET.fromstring(xml), bare_jid, device_id)

    @staticmethod
    async def _delete_bundle(namespace, device_id):
        pass

    @staticmethod
    async def _upload_device_list(namespace, device_list):
        own["devices"] = ET.tostring(etree.serialize_device_list(device_list), encoding="unicode")

    @staticmethod
    async def _download_device_list(namespace, bare_jid):
        xml = own["devices"] if bare_jid == own["jid"] else device_lists.get(bare_jid)
        return {} if xml is None else etree.parse_device_list(ET.fromstring(xml))

    async def _evaluate_custom_trust_level(self, device):
        return omemo.TrustLevel.TRUSTED  # blind trust: trust is not what these tests are about

    async def _make_trust_decision(self, undecided, identifier):
        pass

    @staticmethod
    async def _send_message(message, bare_jid):
        outbox.append({"to": bare_jid, "encrypted": ET.tostring(etree.serialize_message(message), encoding="unicode")})


def envelope(body, sender, recipient):
    root = ET.Element(f"{{{SCE}}}envelope")
    content = ET.SubElement(root, f"{{{SCE}}}content")
    ET.SubElement(content, f"{{{CLIENT}}}body").text = body
    ET.SubElement(root, f"{{{SCE}}}rpad").text = "cGFk"
    ET.SubElement(root, f"{{{SCE}}}to", jid=recipient)
    ET.SubElement(root, f"{{{SCE}}}from", jid=sender)
    return ET.tostring(root, encoding="utf-8")


def read_envelope(data, sender):
    root = ET.fromstring(data)
    if root.tag != f"{{{SCE}}}envelope":
        raise ValueError(f"not an SCE envelope: {root.tag}")
    if root.find(f"{{{SCE}}}from").get("jid") != sender:
        raise ValueError("envelope from someone else")
    if root.find(f"{{{SCE}}}to").get("jid") != own["jid"]:
        raise ValueError("envelope to someone else")
    return root.find(f"{{{SCE}}}content/{{{CLIENT}}}body").text


async def main():
    loop = asyncio.get_running_loop()
    manager = None
    backend = None
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        request = json.loads(line)
        command = request["cmd"]
        reply = {}
        try:
            if command == "init":
                own["jid"] = request["jid"]
                backend = backend_module.Oldmemo(MemoryStorage()) if NAMESPACE == "legacy" else backend_module.Twomemo(MemoryStorage())
                manager = await Peer.create([backend], MemoryStorage(), own["jid"], "python peer", "undecided")
                # Out of "history synchronization" mode, so python-omemo answers key exchanges at once.
                await manager.after_history_sync()
                reply["deviceId"] = (await manager.get_own_device_information())[0].device_id
            elif command == "publish":
                device_lists[request["jid"]] = request["devices"]
                bundles[(request["jid"], request["deviceId"])] = request["bundle"]
                # As a PEP notification of the device list would.
                await manager.update_device_list(NS, request["jid"], etree.parse_device_list(ET.fromstring(request["devices"])))
            elif command == "encrypt":
                plaintext = request["body"].encode() if NAMESPACE == "legacy" else envelope(request["body"], own["jid"], request["to"])
                messages, errors = await manager.encrypt(frozenset([request["to"]]), {NS: plaintext})
                if errors:
                    raise RuntimeError(f"encryption errors: {errors}")
                reply["encrypted"] = [ET.tostring(etree.serialize_message(m), encoding="unicode") for m in messages]
            elif command == "decrypt":
                element = ET.fromstring(request["encrypted"])
                if NAMESPACE == "legacy":
                    message = await etree.parse_message(element, request["from"], own["jid"], manager)
                else:
                    message = etree.parse_message(element, request["from"])
                plaintext, device, _ = await manager.decrypt(message)
                reply["deviceId"] = device.device_id
                if plaintext is None:
                    reply["body"] = None
                else:
                    reply["body"] = plaintext.decode() if NAMESPACE == "legacy" else read_envelope(plaintext, request["from"])
            elif command == "rotate":
                await backend.rotate_signed_pre_key()
                device_id = (await manager.get_own_device_information())[0].device_id
                await Peer._upload_bundle(await backend.get_bundle(own["jid"], device_id))
            else:
                raise ValueError(f"unknown command {command}")
            reply["ok"] = True
        except Exception as error:  # reported to the test, which decides
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        reply["bundle"] = own["bundle"]
        reply["devices"] = own["devices"]
        reply["outbox"] = outbox[:]
        outbox.clear()
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


asyncio.run(main())
