import { ValidationError } from "@llamats/core";

/** A request named a model id the engine does not serve. */
export class UnknownModelError extends ValidationError {
  readonly model: string;
  constructor(message: string, options: { model: string }) {
    super(message, { location: "model" });
    this.name = "UnknownModelError";
    this.model = options.model;
  }
}
