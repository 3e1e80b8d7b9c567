import type { FastifyInstance } from "fastify";
import type { ModelCard } from "../../engine/generation-engine.js";
import type { ServerState } from "../server-state.js";

/** `GET /v1/models` and `GET /v1/models/:id`: the base model and each adapter, as model ids. */
export function registerModelsRoutes(app: FastifyInstance, state: ServerState): void {
  const baseId = (): string | null => state.engine.listModels().find((card) => card.kind === "base")?.id ?? null;
  const toModelObject = (card: ModelCard) => ({
    id: card.id,
    object: "model",
    created: card.created,
    owned_by: "llamats",
    kind: card.kind,
    parent: card.kind === "adapter" ? baseId() : null,
    context_length: card.contextLength,
    prompt_format: card.promptFormat,
  });
  app.get("/v1/models", () => ({ object: "list", data: state.engine.listModels().map(toModelObject) }));
  app.get<{ Params: { id: string } }>("/v1/models/:id", (request) => toModelObject(state.modelCard(request.params.id)));
}
