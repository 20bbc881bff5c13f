// The byte limit per top-level element: where an element ends whatever the chunking, and that
// only the element that grows too large is refused.
import { describe, expect, it } from 'vitest';
import { createElementMeter } from '../../main/core/xmpp/element-meter';

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x1' from='heron.test' version='1.0'>`;

/** Feeds `text` cut into pieces of `size` characters; true while every piece was admitted. */
function feedIn(limit: number, text: string, size: number) {
  const meter = createElementMeter(limit);
  for (let i = 0; i < text.length; i += size) if (!meter.feed(text.slice(i, i + size))) return { admitted: false, pending: meter.pending };
  return { admitted: true, pending: meter.pending };
}

/** The same verdict for every way of cutting the text: whole, one character at a time, and in threes. */
function verdict(limit: number, text: string): boolean {
  const results = [text.length, 1, 3, 7].map((size) => feedIn(limit, text, size).admitted);
  expect(new Set(results).size, `the verdict depends on the chunking: ${results}`).toBe(1);
  return results[0]!;
}

const message = (body: string, attrs = '') => `<message to='a@heron.test'${attrs}><body>${body}</body></message>`;

describe('element meter', () => {
  it('admits any number of elements below the limit: each is measured on its own', () => {
    const elements = Array.from({ length: 200 }, (_, i) => message(`hello ${i}`)).join('');
    expect(elements.length).toBeGreaterThan(10_000);
    expect(verdict(200, HEADER + elements)).toBe(true);
    expect(feedIn(200, HEADER + elements, 64).pending).toBe(0);
  });

  it('refuses the piece with which one element grows past the limit, and not before', () => {
    const big = message('x'.repeat(1000));
    const bytes = Buffer.byteLength(big);
    expect(verdict(bytes, HEADER + big)).toBe(true);
    expect(verdict(bytes - 1, HEADER + big)).toBe(false);
    const meter = createElementMeter(bytes - 1);
    expect(meter.feed(HEADER + big.slice(0, 500))).toBe(true);
    expect(meter.pending).toBe(500);
    expect(meter.feed(big.slice(500))).toBe(false);
  });

  it('counts bytes, not characters', () => {
    const body = 'é'.repeat(600); // 1,200 bytes in UTF-8
    expect(verdict(1000, HEADER + message(body))).toBe(false);
    expect(verdict(1300, HEADER + message(body))).toBe(true);
  });

  it('is not fooled by markup inside attribute values, comments or CDATA', () => {
    const padding = 'y'.repeat(400);
    for (const disguise of [
      message(`${padding}`, ` id="</message>" x='/>'`),
      message(`<!-- </message> --> ${padding}`),
      message(`<![CDATA[</body></message> ]] > ]]>${padding}`),
      message(`<?pi </message>?>${padding}`),
    ]) {
      const { length } = Buffer.from(disguise);
      // Had it ended early, the padding would be measured alone and pass.
      expect(verdict(length - 1, HEADER + disguise), disguise).toBe(false);
      expect(verdict(length, HEADER + disguise + message('after')), disguise).toBe(true);
    }
  });

  it('ends an empty top-level element at its "/>"', () => {
    const acks = `<a xmlns='urn:xmpp:sm:3' h='1'/>`.repeat(100);
    expect(verdict(HEADER.length, HEADER + acks)).toBe(true);
    expect(verdict(HEADER.length, HEADER + `<r xmlns='urn:xmpp:sm:3'/>` + message('z'.repeat(HEADER.length)))).toBe(false);
  });

  it('measures nested elements as part of their top-level one', () => {
    const carbon = `<message from='me@heron.test'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>${message('w'.repeat(300))}</forwarded></received></message>`;
    expect(verdict(350, HEADER + carbon)).toBe(false);
    expect(verdict(Buffer.byteLength(carbon), HEADER + carbon)).toBe(true);
  });

  it('bounds text between elements and an oversized stream header too', () => {
    expect(verdict(1000, HEADER + ' '.repeat(1001))).toBe(false);
    expect(verdict(1000, HEADER + ' '.repeat(500) + message('a') + ' '.repeat(500))).toBe(true);
    expect(verdict(100, `<stream:stream xmlns='jabber:client' id='${'i'.repeat(200)}'>`)).toBe(false);
  });

  it('keeps a count, not the text: a long element is measured exactly across many pieces', () => {
    const meter = createElementMeter(64 * 1024 * 1024);
    meter.feed(HEADER + "<message><body>");
    const chunk = 'q'.repeat(64 * 1024);
    for (let i = 0; i < 160; i++) meter.feed(chunk);
    expect(meter.pending).toBe(15 + 160 * chunk.length);
  });
});
