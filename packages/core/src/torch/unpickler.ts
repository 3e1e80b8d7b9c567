// A restricted unpickler: it interprets the data opcodes of pickle protocols 2–5 and nothing that builds
// arbitrary objects. A global is checked against the allowlist at the opcode that names it, and a refused one
// stops interpretation there; allowed globals are only ever "called" through the policy, which is plain JS.
import { FormatError } from "../errors.js";
import { UnsafePickleError } from "./unsafe-pickle-error.js";

/** A Python tuple (arrays are lists). */
export class PickleTuple {
  constructor(readonly items: readonly unknown[]) {}
}

/** An allowed global, as pushed by GLOBAL / STACK_GLOBAL; only the policy gives it meaning. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What a restricted unpickle may do besides building plain data. */
export interface UnpicklePolicy {
  /** Globals accepted, as `module.name`; any other is refused at its opcode. */
  allowedGlobals: ReadonlySet<string>;
  /** REDUCE: call an allowed global with a tuple of arguments. Throw for globals that are not callable. */
  reduce(callable: PickleGlobal, args: readonly unknown[], offset: number): unknown;
  /** BINPERSID: the object a persistent id stands for. */
  persistentLoad(pid: unknown, offset: number): unknown;
  /** BUILD: set state on an object the policy made (or refuse). */
  build(target: unknown, state: unknown, offset: number): void;
}

export interface UnpickleOptions {
  /** The file the pickle came from (each error's `file`). */
  file: string;
  /** How messages name the pickle (default: `file`), e.g. "x.bin (archive/data.pkl)". */
  label?: string;
  policy: UnpicklePolicy;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

/** Opcodes that would build arbitrary objects or read globals another way: never interpreted. */
const REFUSED_OPCODES: Record<number, string> = {
  0x69: "INST",
  0x6f: "OBJ",
  0x81: "NEWOBJ",
  0x92: "NEWOBJ_EX",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
};

class Machine {
  private at = 0;
  private stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private opStart = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
    private readonly label: string,
    private readonly policy: UnpicklePolicy,
  ) {}

  private fail(what: string): never {
    throw new FormatError(`${this.label}: pickle byte ${this.opStart}: ${what}.`, { file: this.file });
  }

  private take(count: number): Uint8Array {
    if (count < 0 || this.at + count > this.bytes.byteLength)
      this.fail(`needs ${count} more bytes, but the pickle ends at ${this.bytes.byteLength}`);
    const out = this.bytes.subarray(this.at, this.at + count);
    this.at += count;
    return out;
  }

  private data(count: number): DataView {
    const bytes = this.take(count);
    return new DataView(bytes.buffer, bytes.byteOffset, count);
  }

  private u8(): number {
    return this.take(1)[0];
  }

  private u32(): number {
    return this.data(4).getUint32(0, true);
  }

  private u64(): number {
    const value = this.data(8).getBigUint64(0, true);
    if (value > BigInt(this.bytes.byteLength)) this.fail(`a length of ${value} bytes is longer than the pickle`);
    return Number(value);
  }

  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.at);
    if (end < 0) this.fail("a text argument has no end of line");
    const text = latin1.decode(this.bytes.subarray(this.at, end));
    this.at = end + 1;
    return text;
  }

  private text(count: number): string {
    const bytes = this.take(count);
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail("a string is not valid UTF-8");
    }
  }

  private pop(): unknown {
    if (this.stack.length === 0 || (this.marks.length > 0 && this.stack.length <= this.marks[this.marks.length - 1]))
      this.fail("the stack is empty");
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0 || (this.marks.length > 0 && this.stack.length <= this.marks[this.marks.length - 1]))
      this.fail("the stack is empty");
    return this.stack[this.stack.length - 1];
  }

  /** Everything pushed since the last MARK, which is removed. */
  private popMark(): unknown[] {
    const mark = this.marks.pop();
    if (mark === undefined) this.fail("no MARK to pop to");
    return this.stack.splice(mark);
  }

  /** Two's-complement little-endian integer (LONG1/LONG4); a JS number when it is safe, else a bigint. */
  private long(count: number): number | bigint {
    const bytes = this.take(count);
    if (count === 0) return 0;
    let value = 0n;
    for (let i = count - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
    if (bytes[count - 1] & 0x80) value -= 1n << BigInt(8 * count);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  /** The allowlist check, before anything after the opcode is read. */
  private global(module: string, name: string): PickleGlobal {
    const qualified = `${module}.${name}`;
    if (!this.policy.allowedGlobals.has(qualified)) {
      throw new UnsafePickleError(
        `${this.label}: refused to unpickle global "${qualified}" (pickle byte ${this.opStart}): only the globals torch.save writes for ` +
          `tensors and state dicts are allowed (${[...this.policy.allowedGlobals].join(", ")}). The file may try to run code; nothing after it was interpreted.`,
        { file: this.file, global: qualified, offset: this.opStart },
      );
    }
    return new PickleGlobal(module, name);
  }

  private dict(target: unknown): Map<unknown, unknown> {
    if (!(target instanceof Map)) this.fail("SETITEM(S) on something that is not a dict");
    return target;
  }

  private list(target: unknown): unknown[] {
    if (!Array.isArray(target)) this.fail("APPEND(S) on something that is not a list");
    return target;
  }

  private setItems(target: Map<unknown, unknown>, items: unknown[]): void {
    if (items.length % 2 !== 0) this.fail("SETITEMS with an odd number of keys and values");
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  }

  run(): unknown {
    for (;;) {
      this.opStart = this.at;
      if (this.at >= this.bytes.byteLength) this.fail("the pickle ends without STOP");
      const op = this.u8();
      switch (op) {
        case 0x80: // PROTO
          if (this.u8() > 5) this.fail("pickle protocol above 5");
          break;
        case 0x95: // FRAME: framing is only a read hint
          this.u64();
          break;
        case 0x2e: // STOP
          if (this.stack.length !== 1 || this.marks.length > 0)
            this.fail(`STOP with ${this.stack.length} values on the stack (expected 1)`);
          return this.stack[0];
        case 0x28: // MARK
          this.marks.push(this.stack.length);
          break;
        case 0x30: // POP
          this.pop();
          break;
        case 0x31: // POP_MARK
          this.popMark();
          break;
        case 0x32: // DUP
          this.stack.push(this.top());
          break;
        case 0x4e: // NONE
          this.stack.push(null);
          break;
        case 0x88: // NEWTRUE
          this.stack.push(true);
          break;
        case 0x89: // NEWFALSE
          this.stack.push(false);
          break;
        case 0x4a: // BININT
          this.stack.push(this.data(4).getInt32(0, true));
          break;
        case 0x4b: // BININT1
          this.stack.push(this.u8());
          break;
        case 0x4d: // BININT2
          this.stack.push(this.data(2).getUint16(0, true));
          break;
        case 0x8a: // LONG1
          this.stack.push(this.long(this.u8()));
          break;
        case 0x8b: // LONG4
          this.stack.push(this.long(this.u32()));
          break;
        case 0x47: // BINFLOAT (big-endian)
          this.stack.push(this.data(8).getFloat64(0, false));
          break;
        case 0x58: // BINUNICODE
          this.stack.push(this.text(this.u32()));
          break;
        case 0x8c: // SHORT_BINUNICODE
          this.stack.push(this.text(this.u8()));
          break;
        case 0x8d: // BINUNICODE8
          this.stack.push(this.text(this.u64()));
          break;
        case 0x54: // BINSTRING (Python 2 str)
          this.stack.push(latin1.decode(this.take(this.data(4).getInt32(0, true))));
          break;
        case 0x55: // SHORT_BINSTRING
          this.stack.push(latin1.decode(this.take(this.u8())));
          break;
        case 0x42: // BINBYTES
          this.stack.push(this.take(this.u32()).slice());
          break;
        case 0x43: // SHORT_BINBYTES
          this.stack.push(this.take(this.u8()).slice());
          break;
        case 0x8e: // BINBYTES8
          this.stack.push(this.take(this.u64()).slice());
          break;
        case 0x29: // EMPTY_TUPLE
          this.stack.push(new PickleTuple([]));
          break;
        case 0x85: // TUPLE1
        case 0x86: // TUPLE2
        case 0x87: {
          // TUPLE3
          const count = op - 0x84;
          const items: unknown[] = [];
          for (let i = 0; i < count; i++) items.unshift(this.pop());
          this.stack.push(new PickleTuple(items));
          break;
        }
        case 0x74: // TUPLE
          this.stack.push(new PickleTuple(this.popMark()));
          break;
        case 0x5d: // EMPTY_LIST
          this.stack.push([]);
          break;
        case 0x6c: // LIST
          this.stack.push(this.popMark());
          break;
        case 0x61: {
          // APPEND
          const value = this.pop();
          this.list(this.top()).push(value);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popMark();
          this.list(this.top()).push(...items);
          break;
        }
        case 0x7d: // EMPTY_DICT
          this.stack.push(new Map());
          break;
        case 0x64: {
          // DICT
          const map = new Map<unknown, unknown>();
          this.setItems(map, this.popMark());
          this.stack.push(map);
          break;
        }
        case 0x73: {
          // SETITEM
          const value = this.pop();
          const key = this.pop();
          this.dict(this.top()).set(key, value);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popMark();
          this.setItems(this.dict(this.top()), items);
          break;
        }
        case 0x71: // BINPUT
          this.memo.set(this.u8(), this.top());
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.u32(), this.top());
          break;
        case 0x94: // MEMOIZE
          this.memo.set(this.memo.size, this.top());
          break;
        case 0x68: // BINGET
        case 0x6a: {
          // LONG_BINGET
          const index = op === 0x68 ? this.u8() : this.u32();
          if (!this.memo.has(index)) this.fail(`memo entry ${index} was never stored`);
          this.stack.push(this.memo.get(index));
          break;
        }
        case 0x63: {
          // GLOBAL: "module\nname\n"; checked before the next opcode is read
          const module = this.line();
          const name = this.line();
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = this.pop();
          const module = this.pop();
          if (typeof module !== "string" || typeof name !== "string") this.fail("STACK_GLOBAL needs two strings");
          this.stack.push(this.global(module, name));
          break;
        }
        case 0x51: {
          // BINPERSID
          const pid = this.pop();
          this.stack.push(this.policy.persistentLoad(pid, this.opStart));
          break;
        }
        case 0x52: {
          // REDUCE
          const args = this.pop();
          const callable = this.pop();
          if (!(callable instanceof PickleGlobal)) this.fail("REDUCE on something that is not an allowed global");
          if (!(args instanceof PickleTuple))
            this.fail(`REDUCE of ${callable.qualifiedName} without an argument tuple`);
          this.stack.push(this.policy.reduce(callable, args.items, this.opStart));
          break;
        }
        case 0x62: {
          // BUILD
          const state = this.pop();
          this.policy.build(this.top(), state, this.opStart);
          break;
        }
        case 0x69: {
          // INST names a class to instantiate: refused by name, like GLOBAL
          const module = this.line();
          const name = this.line();
          this.global(module, name);
          return this.fail(`opcode INST (instantiates ${module}.${name}) is not allowed`);
        }
        default:
          if (REFUSED_OPCODES[op]) this.fail(`opcode ${REFUSED_OPCODES[op]} (builds arbitrary objects) is not allowed`);
          this.fail(
            `unsupported pickle opcode 0x${op.toString(16).padStart(2, "0")} (${JSON.stringify(String.fromCharCode(op))})`,
          );
      }
    }
  }
}

/** Interprets a pickle under `policy`; untrusted bytes stay data: no global outside the allowlist is ever accepted. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  return new Machine(bytes, options.file, options.label ?? options.file, options.policy).run();
}
