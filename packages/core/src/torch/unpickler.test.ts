import { describe, expect, it } from "vitest";
import { FormatError, LlamatsError } from "../errors.js";
import { torchPicklePolicy } from "./torch-pickle-policy.js";
import { PickleWriter } from "./torch-zip.fixture.js";
import { type PickleTuple, unpickle, type UnpicklePolicy } from "./unpickler.js";
import { UnsafePickleError } from "./unsafe-pickle-error.js";

const FILE = "/models/evil/pytorch_model.bin";

function run(bytes: Uint8Array, policy: UnpicklePolicy = torchPicklePolicy(FILE)): unknown {
  return unpickle(bytes, { file: FILE, policy });
}

/** The error a pickle fails with (it must fail). */
function refusal(bytes: Uint8Array): Error {
  try {
    run(bytes);
  } catch (error) {
    expect(LlamatsError.isInstance(error)).toBe(true);
    return error as Error;
  }
  throw new Error("expected the pickle to be refused");
}

/** A policy that records every call, to prove nothing ran past a refused global. */
function spyPolicy(): UnpicklePolicy & { calls: string[] } {
  const inner = torchPicklePolicy(FILE);
  const calls: string[] = [];
  return {
    calls,
    allowedGlobals: inner.allowedGlobals,
    reduce: (c, a, o) => (calls.push(`reduce ${c.qualifiedName}`), inner.reduce(c, a, o)),
    persistentLoad: (p, o) => (calls.push("persid"), inner.persistentLoad(p, o)),
    build: (t, s, o) => (calls.push("build"), inner.build(t, s, o)),
  };
}

// After each hostile global: bytes that would fail differently (an unknown opcode) if they were ever read.
const POISON = [0xff, 0xff];

describe("restricted unpickler: hostile pickles", () => {
  const cases: { what: string; global: string; bytes: Uint8Array }[] = [
    {
      what: "GLOBAL 'os system' + REDUCE (os.system('touch /tmp/pwned'))",
      global: "os.system",
      bytes: new PickleWriter()
        .proto(2)
        .global("os", "system")
        .raw(...POISON)
        .str("touch /tmp/pwned")
        .raw(0x85, 0x52, 0x2e)
        .bytes(),
    },
    {
      what: "builtins.eval",
      global: "builtins.eval",
      bytes: new PickleWriter()
        .proto(2)
        .global("builtins", "eval")
        .raw(...POISON)
        .str("1+1")
        .raw(0x85, 0x52, 0x2e)
        .bytes(),
    },
    {
      what: "__builtin__.exec in a protocol-0 stream (no PROTO)",
      global: "__builtin__.exec",
      bytes: new PickleWriter()
        .global("__builtin__", "exec")
        .raw(...POISON)
        .text("(S'import os'\ntR.")
        .bytes(),
    },
    {
      what: "torch.storage._load_from_bytes (it unpickles its argument with the full unpickler)",
      global: "torch.storage._load_from_bytes",
      bytes: new PickleWriter()
        .proto(2)
        .global("torch.storage", "_load_from_bytes")
        .raw(...POISON)
        .raw(0x43, 2, 0x80, 0x02, 0x85, 0x52, 0x2e)
        .bytes(),
    },
    {
      what: "STACK_GLOBAL posix.system (protocol 4)",
      global: "posix.system",
      bytes: new PickleWriter()
        .proto(4)
        .raw(0x8c, 5)
        .text("posix")
        .raw(0x8c, 6)
        .text("system")
        .raw(0x93, ...POISON, 0x2e)
        .bytes(),
    },
    {
      what: "INST subprocess.Popen",
      global: "subprocess.Popen",
      bytes: new PickleWriter()
        .mark()
        .str("sh")
        .raw(0x69)
        .text("subprocess\nPopen\n")
        .raw(...POISON, 0x2e)
        .bytes(),
    },
    {
      what: "a hostile global after a valid OrderedDict entry",
      global: "os.system",
      bytes: new PickleWriter()
        .proto(2)
        .global("collections", "OrderedDict")
        .raw(0x29, 0x52)
        .mark()
        .str("w")
        .global("os", "system")
        .raw(...POISON)
        .bytes(),
    },
  ];

  it.each(cases)("refuses $what at the opcode, naming the file and the global", ({ global, bytes }) => {
    const policy = spyPolicy();
    let error: unknown;
    try {
      run(bytes, policy);
    } catch (e) {
      error = e;
    }
    expect(UnsafePickleError.isInstance(error)).toBe(true);
    expect(FormatError.isInstance(error)).toBe(true);
    const refused = error as UnsafePickleError;
    expect(refused.global).toBe(global);
    expect(refused.file).toBe(FILE);
    expect(refused.message).toContain(FILE);
    expect(refused.message).toContain(`"${global}"`);
    // The poison bytes right after the global were never read, and the policy never ran for it.
    expect(refused.message).not.toContain("0xff");
    expect(policy.calls.filter((c) => !c.includes("OrderedDict"))).toEqual([]);
  });

  it("refuses torch globals outside the list (the v1 rebuild, tensor subclasses) and allowed globals used another way", () => {
    expect(
      (
        refusal(
          new PickleWriter().proto(2).global("torch._utils", "_rebuild_tensor").raw(0x2e).bytes(),
        ) as UnsafePickleError
      ).global,
    ).toBe("torch._utils._rebuild_tensor");
    expect(
      (
        refusal(
          new PickleWriter().proto(2).global("torch._tensor", "_rebuild_from_type_v2").raw(0x2e).bytes(),
        ) as UnsafePickleError
      ).global,
    ).toBe("torch._tensor._rebuild_from_type_v2");
    // A storage type is a marker in persistent ids, never a callable.
    expect(
      refusal(new PickleWriter().proto(2).global("torch", "FloatStorage").int(3).raw(0x85, 0x52, 0x2e).bytes()).message,
    ).toMatch(/torch\.FloatStorage is allowed only as a storage type/);
    // Objects may not be built by NEWOBJ / OBJ even from an allowed class.
    expect(
      refusal(new PickleWriter().proto(2).global("collections", "OrderedDict").raw(0x29, 0x81, 0x2e).bytes()).message,
    ).toMatch(/NEWOBJ .* not allowed/);
    expect(
      refusal(new PickleWriter().proto(2).mark().global("collections", "OrderedDict").raw(0x6f, 0x2e).bytes()).message,
    ).toMatch(/OBJ .* not allowed/);
    // BUILD only on a dict; persistent ids only of the storage shape.
    expect(refusal(new PickleWriter().proto(2).raw(0x5d, 0x7d, 0x62, 0x2e).bytes()).message).toMatch(
      /BUILD is only accepted/,
    );
    expect(refusal(new PickleWriter().proto(2).str("storage").raw(0x85, 0x51, 0x2e).bytes()).message).toMatch(
      /persistent id must be/,
    );
    expect(
      refusal(
        new PickleWriter()
          .proto(2)
          .mark()
          .str("storage")
          .global("torch", "FloatStorage")
          .str("../x")
          .str("cpu")
          .int(1)
          .raw(0x74, 0x51, 0x2e)
          .bytes(),
      ).message,
    ).toMatch(/not a plain entry name/);
  });

  it("names the byte of malformed pickles: truncated, unknown opcode, stack underflow, no STOP", () => {
    expect(refusal(new PickleWriter().proto(2).raw(0x58, 10, 0, 0, 0, 0x61).bytes()).message).toMatch(
      /pickle byte 2: needs 10 more bytes/,
    );
    expect(refusal(new PickleWriter().proto(2).raw(0x49).bytes()).message).toMatch(/unsupported pickle opcode 0x49/);
    expect(refusal(new PickleWriter().proto(2).raw(0x52).bytes()).message).toMatch(/stack is empty/);
    expect(refusal(new PickleWriter().proto(2).raw(0x4e).bytes()).message).toMatch(/ends without STOP/);
    expect(refusal(new PickleWriter().proto(2).raw(0x68, 7).bytes()).message).toMatch(/memo entry 7 was never stored/);
  });
});

describe("restricted unpickler: data", () => {
  // pickle.dumps({'a': [1, -2, 300, 70000, 2**40, -(2**70)], 'b': (True, False, None), 'c': 1.5, 'd': 'héllo',
  //               'f': (s, s), 'g': OrderedDict([('k', 1)])}, protocol) from CPython 3.11; protocol 4 adds 'e': b'xy'.
  const protocol2 =
    "80027d71002858010000006171015d7102284b014afeffffff4d2c014a701101008a060000000000018a090000000000000000c065580100000062710388894e8771045801000000637105473ff80000000000005801000000647106580600000068c3a96c6c6f7107580100000066710858060000007368617265647109680986710a580100000067710b63636f6c6c656374696f6e730a4f726465726564446963740a710c2952710d58010000006b710e4b0173752e";
  const protocol4 =
    "80049598000000000000007d94288c0161945d94284b014afeffffff4d2c014a701101008a060000000000018a090000000000000000c0658c01629488894e87948c016394473ff80000000000008c0164948c0668c3a96c6c6f948c0166948c0673686172656494680986948c0167948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01738c0165944302787994752e";

  it.each([
    ["2", protocol2],
    ["4", protocol4],
  ])("reads what CPython writes with protocol %s", (protocol, hex) => {
    const value = run(Uint8Array.from(Buffer.from(hex, "hex"))) as Map<string, unknown>;
    expect(value).toBeInstanceOf(Map);
    expect(value.get("a")).toEqual([1, -2, 300, 70000, 2 ** 40, -(2n ** 70n)]);
    expect((value.get("b") as PickleTuple).items).toEqual([true, false, null]);
    expect(value.get("c")).toBe(1.5);
    expect(value.get("d")).toBe("héllo");
    expect((value.get("f") as PickleTuple).items).toEqual(["shared", "shared"]);
    expect([...(value.get("g") as Map<string, unknown>)]).toEqual([["k", 1]]);
    if (protocol === "4") expect(value.get("e")).toEqual(Uint8Array.from([0x78, 0x79]));
  });
});
