// Measures each top-level element of an XMPP stream as its text arrives, before the XML parser
// sees it. ltx keeps an unfinished element as one string that it re-concatenates and re-scans on
// every chunk, so a huge element costs time quadratic in its size, and it has no limit of its
// own (DESIGN §5). The meter tracks only what it must to find where a top-level element ends:
// element depth, and the places where '<' and '>' mean nothing (attribute values, comments,
// CDATA, processing instructions). One pass over each chunk: linear in the input.
//
// What counts: every byte (UTF-8) since the last top-level boundary: the end of the stream
// header or of a child of the stream root. Text between elements (whitespace keepalives) counts
// towards the next element, so a flood of it is bounded too.

export const DEFAULT_MAX_ELEMENT_BYTES = 1024 * 1024;

export type ElementMeter = {
  /**
   * Takes the next piece of the stream. False when the current top-level element (or the text
   * before it) has grown past the limit with this piece: it must not reach the parser.
   */
  feed(chunk: string): boolean;
  /** Bytes of the current, unfinished top-level element. */
  readonly pending: number;
};

const enum State {
  Text,
  /** Just after '<': which kind of markup this is is not known yet. */
  Open,
  StartTag,
  EndTag,
  AttrValue,
  /** After '<!': a comment, CDATA or a declaration, told apart by what follows. */
  Bang,
  Comment,
  CData,
  Declaration,
  Instruction,
}

const GT = 62; // >
const SLASH = 47;
const BANG = 33;
const QUESTION = 63;
const DQUOTE = 34;
const SQUOTE = 39;
const DASH = 45;
const RBRACKET = 93;

export function createElementMeter(maxBytes: number): ElementMeter {
  let state = State.Text;
  let depth = 0;
  let pending = 0;
  let quote = 0;
  /** The character before this one, inside a start tag: '/' right before '>' closes it at once. */
  let slashBefore = false;
  /** Consecutive '-' (in a comment) or ']' (in CDATA) or whether '?' came last (instruction). */
  let run = 0;
  /** What followed '<!' so far. */
  let bang = '';

  return {
    get pending() {
      return pending;
    },
    feed(chunk) {
      /** Where in `chunk` the bytes not yet added to `pending` start. */
      let from = 0;
      const boundary = (end: number) => {
        pending += Buffer.byteLength(chunk.slice(from, end));
        const over = pending > maxBytes;
        pending = 0;
        from = end;
        return over;
      };
      for (let i = 0; i < chunk.length; i++) {
        switch (state) {
          case State.Text: {
            const lt = chunk.indexOf('<', i);
            if (lt === -1) {
              i = chunk.length;
              break;
            }
            i = lt;
            state = State.Open;
            break;
          }
          case State.Open: {
            const c = chunk.charCodeAt(i);
            if (c === SLASH) state = State.EndTag;
            else if (c === BANG) {
              state = State.Bang;
              bang = '';
            } else if (c === QUESTION) {
              state = State.Instruction;
              run = 0;
            } else {
              state = State.StartTag;
              slashBefore = false;
              i--; // the name's first character is part of the tag
            }
            break;
          }
          case State.StartTag: {
            const c = chunk.charCodeAt(i);
            if (c === DQUOTE || c === SQUOTE) {
              quote = c;
              state = State.AttrValue;
            } else if (c === GT) {
              state = State.Text;
              if (slashBefore) {
                // An empty element: a whole top-level one when it sits right under the root.
                if (depth === 1 && boundary(i + 1)) return false;
              } else if (depth++ === 0) {
                // The stream header: what follows is measured afresh.
                if (boundary(i + 1)) return false;
              }
            }
            slashBefore = c === SLASH;
            break;
          }
          case State.AttrValue: {
            const end = chunk.indexOf(quote === DQUOTE ? '"' : "'", i);
            if (end === -1) {
              i = chunk.length;
              break;
            }
            i = end;
            state = State.StartTag;
            slashBefore = false;
            break;
          }
          case State.EndTag: {
            const gt = chunk.indexOf('>', i);
            if (gt === -1) {
              i = chunk.length;
              break;
            }
            i = gt;
            state = State.Text;
            depth = Math.max(0, depth - 1);
            if (depth <= 1 && boundary(i + 1)) return false;
            break;
          }
          case State.Bang: {
            bang += chunk[i];
            if (bang === '--') {
              state = State.Comment;
              run = 0;
            } else if (bang === '[CDATA[') {
              state = State.CData;
              run = 0;
            } else if (!'--'.startsWith(bang) && !'[CDATA['.startsWith(bang)) {
              state = State.Declaration;
              i--;
            }
            break;
          }
          case State.Comment:
          case State.CData: {
            const c = chunk.charCodeAt(i);
            const closer = state === State.Comment ? DASH : RBRACKET;
            if (c === GT && run >= 2) {
              state = State.Text;
              if (depth === 1 && boundary(i + 1)) return false;
            }
            run = c === closer ? run + 1 : 0;
            break;
          }
          case State.Instruction: {
            const c = chunk.charCodeAt(i);
            if (c === GT && run === 1) state = State.Text;
            run = c === QUESTION ? 1 : 0;
            break;
          }
          case State.Declaration: {
            const gt = chunk.indexOf('>', i);
            if (gt === -1) {
              i = chunk.length;
              break;
            }
            i = gt;
            state = State.Text;
            break;
          }
        }
      }
      pending += Buffer.byteLength(chunk.slice(from));
      return pending <= maxBytes;
    },
  };
}
