// Minimal protobuf wire-format reader and writer: enough for SentencePiece's ModelProto.

export const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

/** Thrown by the reader; callers wrap it in a FormatError that names the file. */
export class ProtobufDecodeError extends Error {}

export interface ProtoField {
  fieldNumber: number;
  wireType: number;
  /** Set for varint fields (as a number; values above 2^53 lose precision, which no field we read has). */
  varint: number;
  /** Set for length-delimited fields. */
  bytes: Uint8Array | undefined;
  /** Set for fixed32 fields: the raw 4 bytes' offset in the buffer. */
  fixed32Offset: number;
}

/** Walks the fields of one message buffer in order. */
export class ProtoReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(private readonly buffer: Uint8Array) {
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  get done(): boolean {
    return this.offset >= this.buffer.length;
  }

  get position(): number {
    return this.offset;
  }

  readFloat32At(offset: number): number {
    return this.view.getFloat32(offset, true);
  }

  next(): ProtoField {
    const key = this.readVarint();
    const fieldNumber = Math.floor(key / 8);
    const wireType = key % 8;
    if (fieldNumber === 0) throw new ProtobufDecodeError(`field number 0 at byte ${this.offset}`);
    const field: ProtoField = { fieldNumber, wireType, varint: 0, bytes: undefined, fixed32Offset: -1 };
    switch (wireType) {
      case WIRE_VARINT:
        field.varint = this.readVarint();
        break;
      case WIRE_FIXED64:
        this.skip(8);
        break;
      case WIRE_LENGTH_DELIMITED: {
        const length = this.readVarint();
        const start = this.offset;
        this.skip(length);
        field.bytes = this.buffer.subarray(start, start + length);
        break;
      }
      case WIRE_FIXED32:
        field.fixed32Offset = this.offset;
        this.skip(4);
        break;
      default:
        throw new ProtobufDecodeError(`unknown wire type ${wireType} for field ${fieldNumber} at byte ${this.offset}`);
    }
    return field;
  }

  private skip(length: number): void {
    if (length < 0 || this.offset + length > this.buffer.length) {
      throw new ProtobufDecodeError(
        `field runs past the end of the data (needs ${length} bytes at byte ${this.offset}, ${this.buffer.length - this.offset} left)`,
      );
    }
    this.offset += length;
  }

  private readVarint(): number {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (this.offset >= this.buffer.length) throw new ProtobufDecodeError(`truncated varint at byte ${this.offset}`);
      const byte = this.buffer[this.offset++]!;
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
    throw new ProtobufDecodeError(`varint longer than 10 bytes at byte ${this.offset}`);
  }
}

/** Interprets a varint as a signed 32-bit int32 (negative values are sent as 10-byte two's complement). */
export function varintToInt32(value: number): number {
  return Number(BigInt.asIntN(32, BigInt(Math.round(value))));
}

const textEncoder = new TextEncoder();

/** Appends fields to a growing buffer. */
export class ProtoWriter {
  private chunks: number[] = [];
  private parts: Uint8Array[] = [];
  private length = 0;

  private flushBytes(): void {
    if (this.chunks.length === 0) return;
    const part = Uint8Array.from(this.chunks);
    this.parts.push(part);
    this.length += part.length;
    this.chunks = [];
  }

  private pushVarint(value: number): void {
    // Negative int32 values are written as 64-bit two's complement, as protobuf requires.
    let v = value < 0 ? BigInt.asUintN(64, BigInt(value)) : BigInt(value);
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
  }

  private key(fieldNumber: number, wireType: number): void {
    this.pushVarint(fieldNumber * 8 + wireType);
  }

  varint(fieldNumber: number, value: number): this {
    this.key(fieldNumber, WIRE_VARINT);
    this.pushVarint(value);
    return this;
  }

  bool(fieldNumber: number, value: boolean): this {
    return this.varint(fieldNumber, value ? 1 : 0);
  }

  float(fieldNumber: number, value: number): this {
    this.key(fieldNumber, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    for (const b of bytes) this.chunks.push(b);
    return this;
  }

  bytes(fieldNumber: number, value: Uint8Array): this {
    this.key(fieldNumber, WIRE_LENGTH_DELIMITED);
    this.pushVarint(value.length);
    this.flushBytes();
    this.parts.push(value);
    this.length += value.length;
    return this;
  }

  string(fieldNumber: number, value: string): this {
    return this.bytes(fieldNumber, textEncoder.encode(value));
  }

  finish(): Uint8Array {
    this.flushBytes();
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const part of this.parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}
