// The test servers' stream-management check (test/support/): what it reads in each server's
// log as a client that counted too few stanzas (XEP-0198), and what it rightly leaves alone.
import { describe, expect, it } from 'vitest';
import { ejabberdAckShortfalls } from '../support/ejabberd';
import { prosodyAckShortfalls } from '../support/prosody';

/** ejabberd 23.01's lines, as its debug log has them, for the c2s process `pid`. */
const ej = {
  sent: (element: string, pid = '0.600.0') =>
    `2026-12-01 21:39:37.756232+00:00 [notice] <${pid}> (tls|<${pid}>) Send XML on stream = <<"${element}">>`,
  received: (elements: string, pid = '0.600.0') =>
    `2026-12-01 21:39:37.757824+00:00 [notice] <${pid}> (tls|<${pid}>) Received XML on stream = <<"${elements.replace(/"/g, '\\"')}">>`,
  acked: (n: number, of: number, pid = '0.600.0') =>
    `2026-12-01 21:39:37.768270+00:00 [debug] <${pid}>@mod_stream_mgmt:check_h_attribute/2:480 bob@heron.test/heron-1 acknowledged ${n} of ${of} stanzas`,
};
const R = "<r xmlns='urn:xmpp:sm:3'/>";
const IQ = "<iq type='result' id='1'/>";
const MSG = "<message type='chat'><body>hi</body></message>";
const a = (h: number) => `<a xmlns="urn:xmpp:sm:3" h="${h}"/>`;
const GET = '<iq type="get" id="2"><ping xmlns="urn:xmpp:ping"/></iq>';

/** Prosody 0.12's mod_smacks lines, as its debug log has them, for session c2s1. */
const pr = {
  asked: (unacked: number) => `Dec 01 21:40:16 c2s1\tdebug\tSending <r> (inside timer, after send) from c2s-pre-ondrain - #queue=${unacked}`,
  received: (element: string) => `Dec 01 21:40:16 c2s1\tdebug\tReceived[c2s]: ${element}`,
  acked: (unacked: number, acked: number) => `Dec 01 21:40:16 c2s1\tdebug\t#queue = ${unacked} (acked: ${acked})`,
  // A new connection c2s2 resumes c2s1 with <resume h=…/>; the lines that tell it come under c2s1.
  resuming: (unacked: number) => `Dec 01 21:40:17 c2s1\tdebug\tPre-resumption #queue = ${unacked}`,
  resending: (unacked: number) => `Dec 01 21:40:17 c2s1\tdebug\tresending all unacked stanzas that are still queued after resume, #queue = ${unacked}`,
};

describe('ejabberd: answers to <r/> that counted short', () => {
  it('finds a client that left an IQ result out of its count, though later answers catch up', () => {
    const log = [
      ej.received(GET),
      ej.sent(IQ),
      ej.sent(R),
      ej.received(a(0)),
      ej.acked(0, 1),
      ej.received(GET),
      ej.sent(MSG),
      ej.sent(MSG),
      ej.sent(R),
      ej.received(`${a(2)}${GET}`),
      ej.acked(2, 3),
    ];
    expect(ejabberdAckShortfalls(log.join('\n'))).toEqual([expect.stringMatching(/<r xmlns='urn:xmpp:sm:3'\/>">>: asked for 1, answered 0$/), expect.stringMatching(/asked for 3, answered 2$/)]);
  });

  it('allows for stanzas sent after the <r/>, a closing <a/> that crossed one, and a request never answered', () => {
    const log = [
      ej.received(GET),
      ej.sent(IQ),
      ej.sent(R),
      ej.sent(MSG), // in flight: after the request
      ej.received(a(1)),
      ej.acked(1, 2),
      ej.sent(R),
      // The client says goodbye before it reads the request: its closing count, then its answer.
      ej.received(a(1)),
      ej.acked(1, 2),
      ej.received(`${a(2)}<presence type="unavailable"/></stream:stream>`),
      ej.acked(2, 2),
      ej.sent(MSG),
      ej.sent(R), // never answered: the stream closed
    ];
    expect(ejabberdAckShortfalls(log.join('\n'))).toEqual([]);
  });

  it('takes no resumption count for an answer', () => {
    // A new c2s process inherits the session and checks the client's <resume h=…/>: lost stanzas are missing from it.
    const log = [ej.received('<resume xmlns="urn:xmpp:sm:3" h="3" previd="x"/>', '0.700.0'), ej.acked(3, 5, '0.700.0')];
    expect(ejabberdAckShortfalls(log.join('\n'))).toEqual([]);
  });

  it('judges a resumed session by what it sent again and after', () => {
    const pid = '0.700.0';
    const log = [
      ej.received('<resume xmlns="urn:xmpp:sm:3" h="3" previd="x"/>', pid),
      ej.acked(3, 5, pid),
      ej.sent(MSG, pid), // the two unacked, sent again
      ej.sent(MSG, pid),
      ej.sent(IQ, pid),
      ej.sent(R, pid),
      ej.received(`${a(5)}${GET}`, pid),
      ej.acked(5, 6, pid),
    ];
    expect(ejabberdAckShortfalls(log.join('\n'))).toEqual([expect.stringMatching(/asked for 6, answered 5$/)]);
  });
});

describe('Prosody: answers to <r/> that counted short', () => {
  it('finds a client that left an IQ result out of its count', () => {
    const log = [pr.received("<iq type='get' id='2'>"), pr.asked(1), pr.received("<a h='0' xmlns='urn:xmpp:sm:3'>"), pr.acked(1, 0), pr.received("<presence xml:lang='en'>")];
    expect(prosodyAckShortfalls(log.join('\n'))).toEqual([expect.stringMatching(/#queue=1: asked for 1, answered 0$/)]);
  });

  it('allows for a closing <a/> that crossed a request, and a request never answered', () => {
    const log = [
      pr.received("<iq type='get' id='2'>"),
      pr.asked(2),
      pr.received("<a h='2' xmlns='urn:xmpp:sm:3'>"),
      pr.acked(0, 2),
      pr.received("<iq type='get' id='3'>"),
      pr.asked(1),
      pr.received("<a h='2' xmlns='urn:xmpp:sm:3'>"),
      pr.acked(1, 0),
      pr.received("<a h='3' xmlns='urn:xmpp:sm:3'>"),
      pr.acked(0, 1),
      pr.received("<presence type='unavailable'>"),
      pr.asked(1),
    ];
    expect(prosodyAckShortfalls(log.join('\n'))).toEqual([]);
  });

  it('counts a resumption: a request the dropped connection never answered is not judged, the <resume h=…/> counts', () => {
    const log = [
      pr.received("<iq type='get' id='2'>"),
      pr.asked(3), // 3 sent; the connection drops before the answer
      pr.resuming(4), // one more was sent into the dropped connection
      pr.resending(1), // <resume h='3'>: 3 of the 4 acknowledged, 1 resent
      pr.asked(1),
      pr.received("<a h='4' xmlns='urn:xmpp:sm:3'>"),
      pr.acked(0, 1),
      pr.received("<message type='chat'>"),
      pr.asked(1),
      pr.received("<a h='4' xmlns='urn:xmpp:sm:3'>"), // one short after the resumption: still found
      pr.acked(1, 0),
      pr.received("<presence xml:lang='en'>"),
    ];
    expect(prosodyAckShortfalls(log.join('\n'))).toEqual([expect.stringMatching(/#queue=1: asked for 5, answered 4$/)]);
  });
});
