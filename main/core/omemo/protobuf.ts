// Just enough protobuf for the five OMEMO messages: uint32 varints and length-delimited bytes.
// Unknown fields are skipped (as protobuf does); anything truncated or oversized is refused.

export class ProtobufError extends Error {}

export type ProtoValue = number | Uint8Array;

/** Encodes fields in the order given (callers list them by field number, as protoc does). */
export function encodeProto(fields: ReadonlyArray<readonly [number, ProtoValue | undefined]>): Uint8Array {
  const out: number[] = [];
  for (const [field, value] of fields) {
    if (value === undefined) continue;
    if (typeof value === 'number') {
      writeVarint(out, (field << 3) | 0);
      writeVarint(out, value);
    } else {
      writeVarint(out, (field << 3) | 2);
      writeVarint(out, value.length);
      for (const byte of value) out.push(byte);
    }
  }
  return Uint8Array.from(out);
}

function writeVarint(out: number[], value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new ProtobufError(`not a uint32: ${value}`);
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

/** Field number → last value seen (protobuf's rule for repeated scalars). */
export type ProtoFields = Map<number, ProtoValue>;

export function decodeProto(data: Uint8Array): ProtoFields {
  const fields: ProtoFields = new Map();
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (at >= data.length) throw new ProtobufError('truncated varint');
      if (shift > 63) throw new ProtobufError('varint too long');
      const byte = data[at++]!;
      if (shift < 35) value += (byte & 0x7f) * 2 ** shift;
      else if ((byte & 0x7f) !== 0) value = Infinity; // beyond uint32: refused by the readers
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (at < data.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw new ProtobufError('field number 0');
    if (wireType === 0) {
      fields.set(field, varint());
    } else if (wireType === 2) {
      const length = varint();
      if (length > data.length - at) throw new ProtobufError('truncated bytes field');
      fields.set(field, data.slice(at, at + length));
      at += length;
    } else if (wireType === 5) {
      at += 4;
    } else if (wireType === 1) {
      at += 8;
    } else {
      throw new ProtobufError(`unsupported wire type ${wireType}`);
    }
    if (at > data.length) throw new ProtobufError('truncated fixed field');
  }
  return fields;
}

export function uint32Field(fields: ProtoFields, field: number, name: string): number {
  const value = fields.get(field);
  if (typeof value !== 'number') throw new ProtobufError(`${name} missing`);
  if (value > 0xffffffff) throw new ProtobufError(`${name} out of range`);
  return value;
}

export function bytesField(fields: ProtoFields, field: number, name: string): Uint8Array {
  const value = fields.get(field);
  if (!(value instanceof Uint8Array)) throw new ProtobufError(`${name} missing`);
  return value;
}
