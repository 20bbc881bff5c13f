// XEP-0393 message styling and links: the XEP's own examples, then hostile bodies.
import { describe, expect, it } from 'vitest';
import { collapsedPreview, findLinks, MAX_QUOTE_DEPTH, meAction, parseSpans, parseStyling, type Block, type Span } from '../../renderer/src/lib/styling';

/** A compact picture of spans: *strong*, _emphasis_, ~strike~, `code`, <link>, plain text as is. */
function show(spans: Span[]): string {
  return spans
    .map((s) => {
      switch (s.kind) {
        case 'text':
          return s.text;
        case 'marker':
          return '';
        case 'link':
          return `<${s.href}>`;
        case 'code':
          return `[code ${s.text}]`;
        default:
          return `[${s.kind} ${show(s.children)}]`;
      }
    })
    .join('');
}

const line = (text: string) => show(parseSpans(text));

function showBlocks(blocks: Block[]): string[] {
  return blocks.map((b) => (b.kind === 'line' ? show(b.spans) : b.kind === 'pre' ? `pre(${b.text})${b.close ? '' : ' unclosed'}` : `quote(${showBlocks(b.blocks).join(' | ')})`));
}

describe('XEP-0393 spans', () => {
  it('styles the examples the XEP styles', () => {
    expect(line('*strong*')).toBe('[strong strong]');
    expect(line('plain *strong* plain')).toBe('plain [strong strong] plain');
    expect(line('*strong* plain *strong*')).toBe('[strong strong] plain [strong strong]');
    expect(line('*strong*plain*')).toBe('[strong strong]plain*');
    expect(line('* plain *strong*')).toBe('* plain [strong strong]');
    expect(line('The full title is _Twelfth Night, or What You Will_ but')).toBe('The full title is [emphasis Twelfth Night, or What You Will] but');
    expect(line('Everyone ~dis~likes cake.')).toBe('Everyone [strike dis]likes cake.');
    expect(line('Wow, I can write in `monospace`!')).toBe('Wow, I can write in [code `monospace`]!');
  });

  it('styles nothing in the examples the XEP leaves plain', () => {
    for (const text of ['not strong*', '*not strong', '*not *strong', '**', '****']) expect(line(text)).toBe(text);
  });

  it('keeps the directives, so the text reads the same', () => {
    const [strong] = parseSpans('*bold*');
    expect(strong).toEqual({ kind: 'strong', children: [{ kind: 'marker', text: '*' }, { kind: 'text', text: 'bold' }, { kind: 'marker', text: '*' }] });
  });

  it('nests other spans but not inside a preformatted span', () => {
    expect(line('_emphasized span containing *strong span*_')).toBe('[emphasis emphasized span containing [strong strong span]]');
    expect(line('This is `*monospace*`')).toBe('This is [code `*monospace*`]');
    expect(line('This is *`monospace and bold`*')).toBe('This is [strong [code `monospace and bold`]]');
  });

  it('matches lazily: the first valid closing directive ends the span', () => {
    expect(line('*a *b* c*')).toBe('[strong a *b] c*');
  });
});

describe('XEP-0393 blocks', () => {
  it('does not let spans escape a line', () => {
    expect(showBlocks(parseStyling('but there is no *formatting\nas spans* may not escape blocks.'))).toEqual([
      'but there is no *formatting',
      'as spans* may not escape blocks.',
    ]);
  });

  it('parses preformatted blocks, closed or running to the end of the parent', () => {
    expect(showBlocks(parseStyling('```ignored\n(println "Hello, world!")\n```\n\nThis should show up'))).toEqual([
      'pre((println "Hello, world!"))',
      '',
      'This should show up',
    ]);
    expect(showBlocks(parseStyling('> ```\n> (println "Hello, world!")\n\nThe entire blockquote'))).toEqual([
      'quote(pre((println "Hello, world!")) unclosed)',
      '',
      'The entire blockquote',
    ]);
    expect(showBlocks(parseStyling('```\n*not styled*'))).toEqual(['pre(*not styled*) unclosed']);
  });

  it('parses quotations and nested quotations, trimming one leading space', () => {
    expect(showBlocks(parseStyling('> That that is, is.\n\nSaid the old hermit of Prague.'))).toEqual(['quote(That that is, is.)', '', 'Said the old hermit of Prague.']);
    expect(showBlocks(parseStyling('>> That that is, is.\n> Said the old hermit of Prague.\n\nWho?'))).toEqual([
      'quote(quote(That that is, is.) | Said the old hermit of Prague.)',
      '',
      'Who?',
    ]);
  });
});

describe('links', () => {
  it('finds http, https, xmpp and mailto links and nothing else', () => {
    expect(line('see https://example.org/a_b_c, or xmpp:room@muc.example?join')).toBe('see <https://example.org/a_b_c>, or <xmpp:room@muc.example?join>');
    expect(line('mail mailto:bob@example.org.')).toBe('mail <mailto:bob@example.org>.');
    for (const text of ['javascript:alert(1)', 'file:///etc/passwd', 'data:text/html,<b>x</b>', 'ftp://x.example', 'https://']) expect(findLinks(text)).toEqual([]);
  });

  it('keeps a bracket the link opened and drops the one the sentence closes', () => {
    expect(line('(see https://en.wikipedia.org/wiki/Heron_(bird))')).toBe('(see <https://en.wikipedia.org/wiki/Heron_(bird)>)');
  });

  it('ignores directives inside a link and styles around it', () => {
    expect(line('*read https://example.org/*x*')).toBe('[strong read <https://example.org/*x>]');
    expect(line('_https://example.org/_')).toBe('[emphasis <https://example.org/>]');
  });
});

describe('hostile bodies', () => {
  it('keeps unbalanced markers as text', () => {
    const text = '*a _b ~c `d '.repeat(50) + '* _ ~ `';
    expect(line(text)).toBe(text);
  });

  it('parses huge bodies in linear time', () => {
    const unit = '*a _b ~c `d ';
    const small = unit.repeat(2_000);
    const big = unit.repeat(40_000); // 480,000 characters of openers without closers
    const time = (s: string) => {
      const start = performance.now();
      parseStyling(s);
      return performance.now() - start;
    };
    time(small); // warm up
    const ratio = time(big) / Math.max(time(small), 0.5);
    // 20× the input: quadratic work would be ~400×.
    expect(ratio).toBeLessThan(80);
    expect(line(big)).toBe(big);
  });

  it('shows quotes deeper than the limit as text', () => {
    const deep = '>'.repeat(10_000) + ' deep';
    let blocks = parseStyling(deep);
    let depth = 0;
    while (blocks[0]?.kind === 'quote') {
      blocks = blocks[0].blocks;
      depth++;
    }
    expect(depth).toBe(MAX_QUOTE_DEPTH);
    expect(showBlocks(blocks)).toEqual(['>'.repeat(10_000 - MAX_QUOTE_DEPTH) + ' deep']);
  });

  it('parses a 10,000-line body line by line', () => {
    const blocks = parseStyling(Array.from({ length: 10_000 }, (_, i) => `line *${i}*`).join('\n'));
    expect(blocks).toHaveLength(10_000);
    expect(showBlocks(blocks.slice(-1))).toEqual(['line [strong 9999]']);
  });
});

describe('/me', () => {
  it('recognises an action only at the very start', () => {
    expect(meAction('/me waves')).toBe('waves');
    expect(meAction(' /me waves')).toBeUndefined();
    expect(meAction('/meeting at 3')).toBeUndefined();
  });
});

describe('collapsing long bodies', () => {
  it('shows short bodies whole and cuts long ones by lines or characters', () => {
    expect(collapsedPreview('short\nbody')).toBeUndefined();
    expect(collapsedPreview(Array.from({ length: 25 }, () => 'x').join('\n'))).toBeUndefined();
    const long = Array.from({ length: 10_000 }, (_, i) => `line ${i}`).join('\n');
    expect(collapsedPreview(long)).toBe(Array.from({ length: 15 }, (_, i) => `line ${i}`).join('\n'));
    expect(collapsedPreview('a'.repeat(3001))).toBe('a'.repeat(1500));
    expect(collapsedPreview('😀'.repeat(1600))!.length).toBe(1500);
    expect(collapsedPreview('a' + '😀'.repeat(1600))!.length).toBe(1499);
  });
});
