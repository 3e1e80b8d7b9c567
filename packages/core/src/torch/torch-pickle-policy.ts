// The globals torch.save writes for a state dict, and what each means here. Everything else (os.system, builtins.eval,
// torch.storage._load_from_bytes, which unpickles again, …) is refused by the unpickler before it is interpreted.
import { FormatError } from "../errors.js";
import { STORAGE_DTYPES, TorchStorage, TorchTensor } from "./torch-objects.js";
import { PickleGlobal, PickleTuple, type UnpicklePolicy } from "./unpickler.js";

const ORDERED_DICT = "collections.OrderedDict";
const REBUILD_TENSOR = "torch._utils._rebuild_tensor_v2";
const REBUILD_PARAMETER = "torch._utils._rebuild_parameter";

/** The allowlist: ordered dicts, tensor and parameter rebuilding, and the typed storage classes. */
export const TORCH_ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  ORDERED_DICT,
  REBUILD_TENSOR,
  REBUILD_PARAMETER,
  ...Object.keys(STORAGE_DTYPES).map((name) => `torch.${name}`),
]);

function isIndex(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function indexTuple(value: unknown): number[] | null {
  if (!(value instanceof PickleTuple) || !value.items.every(isIndex)) return null;
  return value.items as number[];
}

/** A policy for one pickle; storages are shared by key, as torch.load shares them. */
export function torchPicklePolicy(file: string, label = file): UnpicklePolicy {
  const storages = new Map<string, TorchStorage>();
  const fail = (offset: number, what: string): never => {
    throw new FormatError(`${label}: pickle byte ${offset}: ${what}.`, { file });
  };

  const rebuildTensor = (args: readonly unknown[], offset: number): TorchTensor => {
    const [storage, storageOffset, size, stride] = args;
    if (args.length < 6 || args.length > 7)
      fail(offset, `${REBUILD_TENSOR} takes 6 or 7 arguments, found ${args.length}`);
    if (!(storage instanceof TorchStorage))
      return fail(offset, `${REBUILD_TENSOR} needs a storage (a persistent id) as its first argument`);
    const shape = indexTuple(size);
    const strides = indexTuple(stride);
    if (!isIndex(storageOffset) || !shape || !strides || shape.length !== strides.length) {
      return fail(
        offset,
        `${REBUILD_TENSOR} needs an offset and size and stride tuples of the same length, of non-negative integers`,
      );
    }
    return new TorchTensor(storage, storageOffset, shape, strides);
  };

  const orderedDict = (args: readonly unknown[], offset: number): Map<unknown, unknown> => {
    const map = new Map<unknown, unknown>();
    if (args.length === 0) return map;
    const [items] = args;
    if (args.length !== 1 || !Array.isArray(items))
      return fail(offset, `${ORDERED_DICT} takes nothing or a list of (key, value) pairs`);
    for (const item of items) {
      const pair = item instanceof PickleTuple ? item.items : Array.isArray(item) ? item : null;
      if (!pair || pair.length !== 2) return fail(offset, `${ORDERED_DICT} takes (key, value) pairs`);
      map.set(pair[0], pair[1]);
    }
    return map;
  };

  return {
    allowedGlobals: TORCH_ALLOWED_GLOBALS,
    reduce(callable: PickleGlobal, args: readonly unknown[], offset: number): unknown {
      switch (callable.qualifiedName) {
        case ORDERED_DICT:
          return orderedDict(args, offset);
        case REBUILD_TENSOR:
          return rebuildTensor(args, offset);
        case REBUILD_PARAMETER:
          // (data, requires_grad, backward_hooks): a Parameter is its data here.
          if (args.length !== 3 || !(args[0] instanceof TorchTensor))
            return fail(offset, `${REBUILD_PARAMETER} needs (tensor, requires_grad, hooks)`);
          return args[0];
        default:
          return fail(offset, `${callable.qualifiedName} is allowed only as a storage type, not called`);
      }
    },
    persistentLoad(pid: unknown, offset: number): TorchStorage {
      const items = pid instanceof PickleTuple ? pid.items : [];
      const [tag, type, key, , numel] = items;
      const dtype =
        type instanceof PickleGlobal && type.module === "torch" && Object.hasOwn(STORAGE_DTYPES, type.name)
          ? STORAGE_DTYPES[type.name]
          : undefined;
      if (
        items.length !== 5 ||
        tag !== "storage" ||
        !dtype ||
        typeof key !== "string" ||
        typeof items[3] !== "string" ||
        !isIndex(numel)
      ) {
        return fail(offset, "a persistent id must be ('storage', torch.<Type>Storage, key, location, numel)");
      }
      if (!/^[A-Za-z0-9_.-]+$/.test(key))
        return fail(offset, `storage key ${JSON.stringify(key)} is not a plain entry name`);
      const known = storages.get(key);
      if (known) {
        if (known.dtype !== dtype || known.numel !== numel)
          fail(offset, `storage "${key}" is named twice with different types or sizes`);
        return known;
      }
      const storage = new TorchStorage(dtype, key, numel);
      storages.set(key, storage);
      return storage;
    },
    build(target: unknown, state: unknown, offset: number): void {
      // OrderedDict state is its instance dict (a state dict's `_metadata`): kept out, it is not a tensor.
      if (target instanceof Map && (state instanceof Map || state === null)) return;
      fail(offset, "BUILD is only accepted on an ordered dict");
    },
  };
}
