export { createServer } from "./http/create-server.js";
export type { CreateServerOptions, LlamatsServer } from "./http/create-server.js";
export type { ServerLogger } from "./http/server-logger.js";
export { ApiError } from "./api-error.js";
export type { ApiErrorBody, ApiErrorType } from "./api-error.js";
export type {
  ChatMessage,
  EngineGenerateOptions,
  EngineGenerateResult,
  GenerationEngine,
  ModelCard,
  PreparedPrompt,
  PromptFormat,
  PromptInput,
} from "./engine/generation-engine.js";
export { UnknownModelError } from "./engine/unknown-model-error.js";
export { createFakeEngine } from "./engine/fake-engine.js";
export type { FakeEngine, FakeEngineOptions, FakeEngineStats } from "./engine/fake-engine.js";
export { renderChatPrompt } from "./engine/prompt-format.js";
export type { RenderChatPromptOptions, RenderedPrompt } from "./engine/prompt-format.js";
export { AdmissionQueue, QueueFullError, AdmissionCancelledError } from "./scheduler/admission-queue.js";
export type { AdmissionQueueOptions, AdmissionStats } from "./scheduler/admission-queue.js";
export { StopSequenceMatcher } from "./generation/stop-sequence-matcher.js";
export { runLoadTest } from "./load-test/run-load-test.js";
export type { LoadTestOptions, LoadTestReport, ClientOutcome } from "./load-test/run-load-test.js";
export { readSse } from "./load-test/read-sse.js";
export type { SseReadResult } from "./load-test/read-sse.js";
export { checkChatStream } from "./load-test/check-chat-stream.js";
export { createLlamaEngine } from "./engine/llama-engine.js";
export type { CreateLlamaEngineOptions } from "./engine/llama-engine.js";
export type {
  AdapterSwitcher,
  EngineChatMessage,
  EngineModel,
  EngineStreamOptions,
  EngineTokenizer,
} from "./engine/llama-engine-types.js";
