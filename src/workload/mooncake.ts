/**
 * Streaming reader for the Mooncake trace format (kvcache-ai/Mooncake, FAST'25-release/README.md):
 * JSON lines, one request each,
 *
 *     {"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48, 2353]}
 *
 * `timestamp` is milliseconds from the trace's start, `hash_ids` one remapped hash per block of
 * 512 prompt tokens (the last block may be partial): two requests whose hash_ids agree from the
 * first share that prompt prefix. Rows are parsed from the Azure reader's 64 KB byte buffer with
 * no per-row strings or objects (hash ids go into one reused array), so a long trace streams in
 * flat memory; strings are built only for an error.
 */
import { grown } from '../engine/grow.js';
import { TraceReader, clipped } from './trace.js';

/** Tokens per hash block in Mooncake's published traces (FAST'25-release/README.md: "The block size is 512 tokens"). */
export const MOONCAKE_HASH_BLOCK_TOKENS = 512;

const FIELDS = ['timestamp', 'input_length', 'output_length', 'hash_ids'] as const;
const FIELD_BYTES = FIELDS.map((f) => Buffer.from(f));
const ROW_FORM = '{"timestamp": ms, "input_length": n, "output_length": n, "hash_ids": [ids]}';
const TIMESTAMP = 0;
const INPUT = 1;
const OUTPUT = 2;
const HASHES = 3;
const UNKNOWN = -1;
const ALL_FIELDS = 0b1111;

const SPACE = 32;
const TAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const DOT = 46;
const ZERO = 48;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const MAX_TOKENS = 0x7fffffff;

/** A JSON token as the file has it (a string keeps its own quotes, so it is not quoted again). */
function describeValue(token: string): string {
  return token === '' ? 'nothing' : clipped(token);
}

/**
 * Reads a Mooncake trace one row at a time. After `next()` returns true, `timeS` (seconds from the
 * first row), `promptTokens`, `outputTokens`, `line`, and `hashIds[0, hashCount)` describe the row.
 * Keys may come in any order; other keys are skipped; blank lines are skipped.
 *
 * @throws InputError naming the file, line and column for a row that is not a JSON object, lacks
 * a field, has a length that is not a non-negative integer, a hash id that is not a non-negative
 * integer, more hash ids than its input_length has hash blocks, or a timestamp before the previous
 * row's (a trace replays in order).
 */
export class MooncakeReader extends TraceReader {
  /** The current row's hash ids (reused; grown when a row has more). */
  hashIds = new Float64Array(256);
  hashCount = 0;
  private timestampMs = 0;
  private firstMs = 0;
  private prevLine = 0;

  constructor(
    file: string,
    /** Tokens per hash id (Mooncake's 512). */
    private readonly hashBlockTokens = MOONCAKE_HASH_BLOCK_TOKENS,
  ) {
    super(file);
  }

  /** JSON lines have no header. */
  protected override readHeader(): void {}

  override get hasHeader(): boolean {
    return false;
  }

  protected override rowForm(): string {
    return ROW_FORM;
  }

  override next(): boolean {
    const buf = this.buf;
    for (;;) {
      if (!this.readLine()) {
        this.close();
        return false;
      }
      let p = this.ws(this.lineStart);
      let end = this.lineEnd;
      while (end > p && (buf[end - 1] === SPACE || buf[end - 1] === TAB)) end--;
      if (p === end) continue;
      if (buf[p] !== LBRACE) this.fail(`expected a JSON object ${ROW_FORM}, got ${JSON.stringify(describeValue(this.text(p, end)))}`, p);
      let seen = 0;
      p = this.ws(p + 1);
      if (buf[p] !== RBRACE) {
        for (;;) {
          if (buf[p] !== QUOTE) this.fail(`expected a "key" of ${ROW_FORM}`, p);
          const keyAt = p;
          const field = this.key(p + 1, end);
          p = this.ws(this.at);
          if (buf[p] !== COLON) this.fail('expected ":" after the key', p);
          p = this.ws(p + 1);
          if (field !== UNKNOWN) {
            if ((seen & (1 << field)) !== 0) this.fail(`${FIELDS[field]}: appears twice`, keyAt);
            seen |= 1 << field;
          }
          if (field === TIMESTAMP) p = this.timestamp(p, end);
          else if (field === INPUT) {
            this.promptTokens = this.integer(p, end, INPUT, MAX_TOKENS);
            p = this.at;
          } else if (field === OUTPUT) {
            this.outputTokens = this.integer(p, end, OUTPUT, MAX_TOKENS);
            p = this.at;
          }
          else if (field === HASHES) p = this.hashes(p, end);
          else p = this.skipValue(p, end);
          p = this.ws(p);
          if (buf[p] === COMMA) p = this.ws(p + 1);
          else if (buf[p] === RBRACE) break;
          else this.fail(p >= end ? 'the object is not closed: expected "}"' : 'expected "," or "}"', p);
        }
      }
      p = this.ws(p + 1);
      if (p < end) this.fail('unexpected text after the JSON object', p);
      if (seen !== ALL_FIELDS) {
        let missing = 0;
        while ((seen & (1 << missing)) !== 0) missing++;
        this.fail(`missing "${FIELDS[missing]}"; expected ${ROW_FORM}`, this.lineStart);
      }
      const blocks = Math.ceil(this.promptTokens / this.hashBlockTokens);
      if (this.hashCount > blocks) {
        this.fail(
          `hash_ids: ${this.hashCount} hash ids for input_length ${this.promptTokens}, which has ${blocks} ` +
            `block${blocks === 1 ? '' : 's'} of ${this.hashBlockTokens} tokens (hash_block_tokens)`,
          this.hashesAt,
        );
      }
      if (this.rows === 0) this.firstMs = this.timestampMs;
      const timeS = (this.timestampMs - this.firstMs) / 1000;
      if (this.rows > 0 && timeS < this.timeS) {
        this.fail(`timestamp: timestamps must be non-decreasing; ${this.timestampMs} is earlier than the row on line ${this.prevLine}`, this.timestampAt);
      }
      this.timeS = timeS;
      this.prevLine = this.linesRead;
      this.line = this.linesRead;
      this.rows++;
      return true;
    }
  }

  /** Position after the last value or key parsed. */
  private at = 0;
  private timestampAt = 0;
  private hashesAt = 0;

  private ws(p: number): number {
    const buf = this.buf;
    while (p < this.lineEnd && (buf[p] === SPACE || buf[p] === TAB)) p++;
    return p;
  }

  /** Reads a key whose text starts at p (after its quote); sets `at` past the closing quote and returns its field or UNKNOWN. */
  private key(p: number, end: number): number {
    const buf = this.buf;
    const start = p;
    let escaped = false;
    while (p < end && buf[p] !== QUOTE) {
      if (buf[p] === BACKSLASH) {
        escaped = true;
        p++;
      }
      p++;
    }
    if (p >= end) this.fail('the key is not closed: expected "', start - 1);
    this.at = p + 1;
    if (escaped) return UNKNOWN;
    for (let f = 0; f < FIELD_BYTES.length; f++) {
      const name = FIELD_BYTES[f];
      if (name.length !== p - start) continue;
      let i = 0;
      while (i < name.length && buf[start + i] === name[i]) i++;
      if (i === name.length) return f;
    }
    return UNKNOWN;
  }

  /** End of a bare value (number, literal) starting at p. */
  private tokenEnd(p: number, end: number): number {
    const buf = this.buf;
    while (p < end && buf[p] !== COMMA && buf[p] !== RBRACE && buf[p] !== RBRACKET && buf[p] !== SPACE && buf[p] !== TAB) p++;
    return p;
  }

  /** A non-negative integer at p (at most max); sets `at` past it. */
  private integer(p: number, end: number, field: number, max: number): number {
    const buf = this.buf;
    const e = this.tokenEnd(p, end);
    let value = 0;
    for (let i = p; i < e; i++) {
      const digit = buf[i] - ZERO;
      if (digit < 0 || digit > 9) value = -1;
      else if (value >= 0) value = value * 10 + digit;
    }
    if (p === e || value < 0) {
      const what = field === HASHES ? 'hash_ids: expected hash ids that are non-negative integers' : `${FIELDS[field]}: expected a non-negative integer`;
      this.fail(`${what}, got ${describeValue(this.text(p, e))}`, p);
    }
    if (value > max) this.fail(`${FIELDS[field]}: ${this.text(p, e)} is too large (max ${max})`, p);
    this.at = e;
    return value;
  }

  /** The timestamp (milliseconds, a non-negative decimal) at p; returns the position past it. */
  private timestamp(p: number, end: number): number {
    const buf = this.buf;
    const e = this.tokenEnd(p, end);
    this.timestampAt = p;
    let value = 0;
    let scale = 0;
    let ok = p < e;
    for (let i = p; i < e && ok; i++) {
      if (buf[i] === DOT && scale === 0 && i > p && i + 1 < e) scale = 1;
      else {
        const digit = buf[i] - ZERO;
        if (digit < 0 || digit > 9) ok = false;
        else if (scale === 0) value = value * 10 + digit;
        else value += digit / (scale *= 10);
      }
    }
    if (!ok) this.fail(`timestamp: expected milliseconds from the trace's start (a non-negative number), got ${describeValue(this.text(p, e))}`, p);
    this.timestampMs = value;
    return e;
  }

  /** The hash_ids array at p into hashIds; returns the position past it. */
  private hashes(p: number, end: number): number {
    const buf = this.buf;
    this.hashesAt = p;
    if (buf[p] !== LBRACKET) this.fail(`hash_ids: expected an array of integers, got ${describeValue(this.text(p, this.tokenEnd(p, end)))}`, p);
    let n = 0;
    p = this.ws(p + 1);
    if (buf[p] !== RBRACKET) {
      for (;;) {
        const id = this.integer(p, end, HASHES, Number.MAX_SAFE_INTEGER);
        if (n === this.hashIds.length) this.hashIds = grown(this.hashIds, 2 * n);
        this.hashIds[n++] = id;
        p = this.ws(this.at);
        if (buf[p] === COMMA) p = this.ws(p + 1);
        else if (buf[p] === RBRACKET) break;
        else this.fail('hash_ids: expected "," or "]"', p);
      }
    }
    this.hashCount = n;
    return p + 1;
  }

  /** Skips any JSON value at p (a key fleetsim does not read); returns the position past it. */
  private skipValue(p: number, end: number): number {
    const buf = this.buf;
    let depth = 0;
    const start = p;
    while (p < end) {
      const c = buf[p];
      if (c === QUOTE) {
        p++;
        while (p < end && buf[p] !== QUOTE) p += buf[p] === BACKSLASH ? 2 : 1;
        if (p >= end) this.fail('a string is not closed: expected "', start);
        p++;
      } else if (c === LBRACE || c === LBRACKET) {
        depth++;
        p++;
      } else if (c === RBRACE || c === RBRACKET) {
        if (depth === 0) break;
        depth--;
        p++;
      } else if (depth === 0 && c === COMMA) break;
      else p++;
      if (depth === 0 && (c === QUOTE || c === RBRACE || c === RBRACKET)) break;
    }
    if (p === start) this.fail('expected a value', p);
    return p;
  }

  override rewind(): void {
    super.rewind();
    this.hashCount = 0;
  }
}

/** Opens a trace of either format: Mooncake's JSON lines or Azure's CSV. */
export function openTrace(file: string, format: 'azure' | 'mooncake', hashBlockTokens = MOONCAKE_HASH_BLOCK_TOKENS): TraceReader {
  return format === 'mooncake' ? new MooncakeReader(file, hashBlockTokens) : new TraceReader(file);
}

/** The format a trace file is read in when its scenario does not say: `.jsonl` is Mooncake's, anything else Azure's CSV. */
export function traceFormatOf(file: string): 'azure' | 'mooncake' {
  return /\.jsonl$/i.test(file) ? 'mooncake' : 'azure';
}

/** Whether a reader carries hash ids (TraceArrivals reads them through this). */
export function hashesOf(reader: TraceReader): MooncakeReader | null {
  return reader instanceof MooncakeReader ? reader : null;
}
