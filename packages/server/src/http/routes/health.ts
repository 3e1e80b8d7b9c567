import type { FastifyInstance } from "fastify";
import type { ServerState } from "../server-state.js";

/** `GET /health`: 200 while serving, 503 once shutting down (so a load balancer stops sending work). */
export function registerHealthRoute(app: FastifyInstance, state: ServerState): void {
  app.get("/health", async (_request, reply) => {
    const { active, queued, maxConcurrency, maxQueue } = state.admission.stats();
    void reply.code(state.draining ? 503 : 200);
    return {
      status: state.draining ? "draining" : "ok",
      models: state.engine.listModels().map((card) => card.id),
      generations: { active, queued, max_concurrency: maxConcurrency, max_queue: maxQueue },
    };
  });
}
