// SentencePiece ModelProto (sentencepiece_model.proto): the parts a tokenizer needs, parsed and written.
import { FormatError } from "@llamats/core";
import {
  ProtoReader,
  ProtoWriter,
  ProtobufDecodeError,
  WIRE_FIXED32,
  WIRE_LENGTH_DELIMITED,
  WIRE_VARINT,
  varintToInt32,
} from "../protobuf.js";

export type PieceType = "normal" | "unknown" | "control" | "user-defined" | "unused" | "byte";

const PIECE_TYPE_BY_NUMBER: Record<number, PieceType> = {
  1: "normal",
  2: "unknown",
  3: "control",
  4: "user-defined",
  5: "unused",
  6: "byte",
};
/** SentencePiece's piece type numbers (ModelProto.SentencePiece.Type), which llama.cpp's token types reuse. */
export const PIECE_TYPE_NUMBER: Record<PieceType, number> = {
  normal: 1,
  unknown: 2,
  control: 3,
  "user-defined": 4,
  unused: 5,
  byte: 6,
};

export interface SentencePiece {
  piece: string;
  score: number;
  type: PieceType;
}

export type SentencePieceModelType = "unigram" | "bpe" | "word" | "char";
const MODEL_TYPE_BY_NUMBER: Record<number, SentencePieceModelType> = { 1: "unigram", 2: "bpe", 3: "word", 4: "char" };
const MODEL_TYPE_NUMBER: Record<SentencePieceModelType, number> = { unigram: 1, bpe: 2, word: 3, char: 4 };

/** TrainerSpec fields that affect encoding or that a writer should record; proto2 defaults applied. */
export interface TrainerSpec {
  modelType: SentencePieceModelType;
  vocabSize: number;
  characterCoverage: number;
  splitByUnicodeScript: boolean;
  splitByNumber: boolean;
  splitByWhitespace: boolean;
  splitDigits: boolean;
  treatWhitespaceAsSuffix: boolean;
  allowWhitespaceOnlyPieces: boolean;
  byteFallback: boolean;
  maxSentencepieceLength: number;
  userDefinedSymbols: string[];
  controlSymbols: string[];
  unkId: number;
  bosId: number;
  eosId: number;
  padId: number;
  unkPiece: string;
  bosPiece: string;
  eosPiece: string;
  padPiece: string;
  unkSurface: string;
}

export interface NormalizerSpec {
  name: string;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface SentencePieceModelProto {
  pieces: SentencePiece[];
  trainerSpec: TrainerSpec;
  normalizerSpec: NormalizerSpec;
  denormalizerSpec: NormalizerSpec | undefined;
}

export function defaultTrainerSpec(): TrainerSpec {
  return {
    modelType: "unigram",
    vocabSize: 8000,
    characterCoverage: 0.9995,
    splitByUnicodeScript: true,
    splitByNumber: true,
    splitByWhitespace: true,
    splitDigits: false,
    treatWhitespaceAsSuffix: false,
    allowWhitespaceOnlyPieces: false,
    byteFallback: false,
    maxSentencepieceLength: 16,
    userDefinedSymbols: [],
    controlSymbols: [],
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkPiece: "<unk>",
    bosPiece: "<s>",
    eosPiece: "</s>",
    padPiece: "<pad>",
    unkSurface: " \u2047 ",
  };
}

export function defaultNormalizerSpec(): NormalizerSpec {
  return {
    name: "",
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function text(bytes: Uint8Array | undefined, what: string): string {
  if (!bytes) throw new ProtobufDecodeError(`${what} is not a length-delimited field`);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtobufDecodeError(`${what} is not valid UTF-8`);
  }
}

function parsePiece(bytes: Uint8Array, index: number): SentencePiece {
  const reader = new ProtoReader(bytes);
  const piece: SentencePiece = { piece: "", score: 0, type: "normal" };
  let sawPiece = false;
  while (!reader.done) {
    const f = reader.next();
    if (f.fieldNumber === 1 && f.wireType === WIRE_LENGTH_DELIMITED) {
      piece.piece = text(f.bytes, `piece ${index}`);
      sawPiece = true;
    } else if (f.fieldNumber === 2 && f.wireType === WIRE_FIXED32) {
      piece.score = reader.readFloat32At(f.fixed32Offset);
    } else if (f.fieldNumber === 3 && f.wireType === WIRE_VARINT) {
      const type = PIECE_TYPE_BY_NUMBER[f.varint];
      if (!type) throw new ProtobufDecodeError(`piece ${index} has unknown type ${f.varint}`);
      piece.type = type;
    }
  }
  if (!sawPiece || piece.piece === "") throw new ProtobufDecodeError(`piece ${index} is empty`);
  return piece;
}

function parseTrainerSpec(bytes: Uint8Array): TrainerSpec {
  const spec = defaultTrainerSpec();
  const reader = new ProtoReader(bytes);
  while (!reader.done) {
    const f = reader.next();
    const v = f.varint;
    switch (f.wireType === WIRE_VARINT ? f.fieldNumber : -f.fieldNumber) {
      case 3: {
        const type = MODEL_TYPE_BY_NUMBER[v];
        if (!type) throw new ProtobufDecodeError(`trainer_spec.model_type ${v} is unknown`);
        spec.modelType = type;
        break;
      }
      case 4:
        spec.vocabSize = varintToInt32(v);
        break;
      case 21:
        spec.splitByUnicodeScript = v !== 0;
        break;
      case 23:
        spec.splitByNumber = v !== 0;
        break;
      case 22:
        spec.splitByWhitespace = v !== 0;
        break;
      case 24:
        spec.treatWhitespaceAsSuffix = v !== 0;
        break;
      case 26:
        spec.allowWhitespaceOnlyPieces = v !== 0;
        break;
      case 25:
        spec.splitDigits = v !== 0;
        break;
      case 35:
        spec.byteFallback = v !== 0;
        break;
      case 20:
        spec.maxSentencepieceLength = varintToInt32(v);
        break;
      case 40:
        spec.unkId = varintToInt32(v);
        break;
      case 41:
        spec.bosId = varintToInt32(v);
        break;
      case 42:
        spec.eosId = varintToInt32(v);
        break;
      case 43:
        spec.padId = varintToInt32(v);
        break;
      case -10:
        if (f.wireType === WIRE_FIXED32) spec.characterCoverage = reader.readFloat32At(f.fixed32Offset);
        break;
      case -30:
        spec.controlSymbols.push(text(f.bytes, "trainer_spec.control_symbols"));
        break;
      case -31:
        spec.userDefinedSymbols.push(text(f.bytes, "trainer_spec.user_defined_symbols"));
        break;
      case -45:
        spec.unkPiece = text(f.bytes, "trainer_spec.unk_piece");
        break;
      case -46:
        spec.bosPiece = text(f.bytes, "trainer_spec.bos_piece");
        break;
      case -47:
        spec.eosPiece = text(f.bytes, "trainer_spec.eos_piece");
        break;
      case -48:
        spec.padPiece = text(f.bytes, "trainer_spec.pad_piece");
        break;
      case -44:
        spec.unkSurface = text(f.bytes, "trainer_spec.unk_surface");
        break;
      default:
        break; // Fields that do not change encoding are skipped.
    }
  }
  return spec;
}

function parseNormalizerSpec(bytes: Uint8Array): NormalizerSpec {
  const spec = defaultNormalizerSpec();
  const reader = new ProtoReader(bytes);
  while (!reader.done) {
    const f = reader.next();
    if (f.wireType === WIRE_VARINT) {
      if (f.fieldNumber === 3) spec.addDummyPrefix = f.varint !== 0;
      else if (f.fieldNumber === 4) spec.removeExtraWhitespaces = f.varint !== 0;
      else if (f.fieldNumber === 5) spec.escapeWhitespaces = f.varint !== 0;
    } else if (f.wireType === WIRE_LENGTH_DELIMITED) {
      if (f.fieldNumber === 1) spec.name = text(f.bytes, "normalizer_spec.name");
      else if (f.fieldNumber === 2) spec.precompiledCharsmap = f.bytes ?? new Uint8Array(0);
    }
  }
  return spec;
}

/** Parses a serialized ModelProto; `file` is named in errors. */
export function parseModelProto(bytes: Uint8Array, file = "<memory>"): SentencePieceModelProto {
  const pieces: SentencePiece[] = [];
  let trainerSpec: TrainerSpec | undefined;
  let normalizerSpec: NormalizerSpec | undefined;
  let denormalizerSpec: NormalizerSpec | undefined;
  try {
    const reader = new ProtoReader(bytes);
    while (!reader.done) {
      const f = reader.next();
      if (f.wireType !== WIRE_LENGTH_DELIMITED || !f.bytes) continue;
      if (f.fieldNumber === 1) pieces.push(parsePiece(f.bytes, pieces.length));
      else if (f.fieldNumber === 2) trainerSpec = parseTrainerSpec(f.bytes);
      else if (f.fieldNumber === 3) normalizerSpec = parseNormalizerSpec(f.bytes);
      else if (f.fieldNumber === 5) denormalizerSpec = parseNormalizerSpec(f.bytes);
    }
  } catch (error) {
    if (error instanceof ProtobufDecodeError) {
      throw new FormatError(
        `${file} is not a valid SentencePiece model (a ModelProto protobuf): ${error.message}. The file may be truncated, or not a tokenizer.model at all (a Git LFS pointer or an HTML error page is a common cause).`,
        { file, cause: error },
      );
    }
    throw error;
  }
  if (pieces.length === 0) {
    throw new FormatError(
      `${file} is not a valid SentencePiece model: it holds no pieces (expected a ModelProto with a vocabulary; found ${bytes.length} bytes that parse to none).`,
      { file },
    );
  }
  return {
    pieces,
    trainerSpec: trainerSpec ?? defaultTrainerSpec(),
    normalizerSpec: normalizerSpec ?? defaultNormalizerSpec(),
    denormalizerSpec,
  };
}

function writeNormalizerSpec(spec: NormalizerSpec): Uint8Array {
  const w = new ProtoWriter();
  w.string(1, spec.name);
  if (spec.precompiledCharsmap.length > 0) w.bytes(2, spec.precompiledCharsmap);
  w.bool(3, spec.addDummyPrefix).bool(4, spec.removeExtraWhitespaces).bool(5, spec.escapeWhitespaces);
  return w.finish();
}

function writeTrainerSpec(spec: TrainerSpec): Uint8Array {
  const w = new ProtoWriter();
  w.varint(3, MODEL_TYPE_NUMBER[spec.modelType]).varint(4, spec.vocabSize);
  w.float(10, spec.characterCoverage);
  w.varint(20, spec.maxSentencepieceLength);
  w.bool(21, spec.splitByUnicodeScript).bool(22, spec.splitByWhitespace).bool(23, spec.splitByNumber);
  w.bool(24, spec.treatWhitespaceAsSuffix).bool(25, spec.splitDigits).bool(26, spec.allowWhitespaceOnlyPieces);
  for (const s of spec.controlSymbols) w.string(30, s);
  for (const s of spec.userDefinedSymbols) w.string(31, s);
  w.bool(35, spec.byteFallback);
  w.varint(40, spec.unkId).varint(41, spec.bosId).varint(42, spec.eosId).varint(43, spec.padId);
  w.string(44, spec.unkSurface)
    .string(45, spec.unkPiece)
    .string(46, spec.bosPiece)
    .string(47, spec.eosPiece)
    .string(48, spec.padPiece);
  return w.finish();
}

/** Serializes a ModelProto that SentencePiece (C++/Python) loads. */
export function serializeModelProto(model: SentencePieceModelProto): Uint8Array {
  const w = new ProtoWriter();
  for (const p of model.pieces) {
    const pw = new ProtoWriter().string(1, p.piece).float(2, p.score);
    if (p.type !== "normal") pw.varint(3, PIECE_TYPE_NUMBER[p.type]);
    w.bytes(1, pw.finish());
  }
  w.bytes(2, writeTrainerSpec(model.trainerSpec));
  w.bytes(3, writeNormalizerSpec(model.normalizerSpec));
  if (model.denormalizerSpec) w.bytes(5, writeNormalizerSpec(model.denormalizerSpec));
  return w.finish();
}
