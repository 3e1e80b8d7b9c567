import * as tf from "@tensorflow/tfjs-core";

/**
 * Whole base parameters an adapter trains and saves (`modules_to_save`). The active adapter's values live in
 * the model's own variables; other adapters' values and the originals wait in copies and are swapped in.
 */
export class ModulesToSaveStore {
  private readonly originals = new Map<string, tf.Tensor>();
  private readonly copies = new Map<string, Map<string, tf.Variable>>();
  private live: string | null = null;

  constructor(private readonly parameters: () => Map<string, tf.Variable>) {}

  /** Parameter names an adapter owns. */
  parameterNames(adapter: string): string[] {
    return [...(this.copies.get(adapter)?.keys() ?? [])];
  }

  /** Registers an adapter's copies, starting from the original values or from `values`. */
  add(adapter: string, names: readonly string[], values: Map<string, tf.Tensor> = new Map()): void {
    const params = this.parameters();
    const copies = new Map<string, tf.Variable>();
    for (const name of names) {
      const variable = params.get(name)!;
      // A name no adapter has claimed yet still holds its original value.
      if (!this.originals.has(name)) this.originals.set(name, tf.clone(variable));
      const start = values.get(name) ?? this.originals.get(name)!;
      copies.set(name, tf.variable(start, false));
    }
    this.copies.set(adapter, copies);
  }

  /** The variable holding the adapter's value now: the model's own while live, else the stored copy. */
  variablesOf(adapter: string): Map<string, tf.Variable> {
    const copies = this.copies.get(adapter);
    if (!copies) return new Map();
    if (this.live !== adapter) return new Map(copies);
    const params = this.parameters();
    return new Map([...copies.keys()].map((name) => [name, params.get(name)!]));
  }

  /** Puts `adapter`'s values into the model (null: the originals). */
  activate(adapter: string | null): void {
    if (this.live === adapter) return;
    const params = this.parameters();
    if (this.live !== null) {
      for (const [name, copy] of this.copies.get(this.live) ?? []) {
        copy.assign(params.get(name)!);
        params.get(name)!.assign(this.originals.get(name)!);
      }
    }
    if (adapter !== null) for (const [name, copy] of this.copies.get(adapter) ?? []) params.get(name)!.assign(copy);
    this.live = adapter;
  }

  remove(adapter: string): void {
    if (this.live === adapter) this.activate(null);
    for (const copy of this.copies.get(adapter)?.values() ?? []) copy.dispose();
    this.copies.delete(adapter);
  }

  /** Frees every copy; the model keeps whatever values are live. */
  dispose(): void {
    for (const copies of this.copies.values()) for (const copy of copies.values()) copy.dispose();
    for (const original of this.originals.values()) original.dispose();
    this.copies.clear();
    this.originals.clear();
    this.live = null;
  }
}
