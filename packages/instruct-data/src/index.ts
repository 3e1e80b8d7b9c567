export const PACKAGE_NAME = "@llamats/instruct-data";

// Datasets
export type {
  AlpacaRecord,
  ChatMessage,
  ChatRecord,
  DatasetFormat,
  InstructionRecord,
  InvalidRecordReport,
  RecordLocation,
  TokenizedRecord,
} from "./dataset/records.js";
export { formatLocation, isAlpacaRecord, isChatRecord, isTokenizedRecord } from "./dataset/records.js";
export { validateRecord } from "./dataset/validate-record.js";
export type { RecordProblem, RecordValidation } from "./dataset/validate-record.js";
export { parseKoalpacaText } from "./dataset/koalpaca-text.js";
export { readRawRecords } from "./dataset/read-raw-records.js";
export type { RawRecord, RawRecords } from "./dataset/read-raw-records.js";
export { loadInstructionDataset } from "./dataset/load-instruction-dataset.js";
export type { LoadInstructionDatasetOptions, LoadedInstructionDataset } from "./dataset/load-instruction-dataset.js";
export { resolveHubDatasetFiles } from "./dataset/hub-dataset-files.js";
export type { DownloadRepo, HubDatasetFilesOptions, ResolveRepoFile } from "./dataset/hub-dataset-files.js";
export { resolveLocalDatasetFiles } from "./dataset/local-dataset-files.js";
export type { LocalDatasetFilesOptions } from "./dataset/local-dataset-files.js";
export { SPLIT_KEYWORDS, isDataFilePath, selectSplitFiles, splitsOf } from "./dataset/split-files.js";
export type { SplitConvention, SplitFiles } from "./dataset/split-files.js";
export { matchDataFiles } from "./dataset/match-data-files.js";
export { dataFileKind, readDataFile } from "./dataset/read-data-file.js";
export type { DataFileKind } from "./dataset/read-data-file.js";
export type { DataFileItem } from "./dataset/data-file-item.js";
export { readParquetRecords } from "./dataset/parquet/read-parquet-records.js";
export type { ReadParquetRecordsOptions } from "./dataset/parquet/read-parquet-records.js";
export { CsvParser, parseCsv } from "./dataset/csv/csv-parser.js";
export type { CsvRow, CsvRowError } from "./dataset/csv/csv-parser.js";
export { readCsvRecords } from "./dataset/csv/read-csv-records.js";
export type { ReadCsvRecordsOptions } from "./dataset/csv/read-csv-records.js";
export { InvalidDatasetError, formatInvalidReport } from "./dataset/invalid-dataset-error.js";
export { splitTrainVal } from "./dataset/split-train-val.js";
export type { SplitTrainValOptions } from "./dataset/split-train-val.js";
export { seededRandom } from "./util/seeded-random.js";

// Templates
export type { PromptTemplate, PromptTemplateFile } from "./templates/prompt-template.js";
export { BUILTIN_TEMPLATES } from "./templates/builtin-templates.js";
export { getTemplate, listTemplates, parseTemplateFile } from "./templates/get-template.js";
export { renderPrompt, renderTextPrompt, renderChatSegments } from "./templates/render-prompt.js";
export type { RenderedSegment } from "./templates/render-prompt.js";

// Tokenization for training
export type { TrainingTokenizer } from "./tokenize/training-tokenizer.js";
export { IGNORE_INDEX } from "@llamats/core";
export { tokenizeForTraining } from "./tokenize/tokenize-for-training.js";
export type {
  TokenizationMode,
  TokenizeForTrainingOptions,
  TokenizedExample,
} from "./tokenize/tokenize-for-training.js";
export { collateBatch } from "./tokenize/collate-batch.js";
export type { CollateBatchOptions, CollatedBatch } from "./tokenize/collate-batch.js";
export { packExamples } from "./tokenize/pack-examples.js";
export type { PackExamplesOptions, PackedRow } from "./tokenize/pack-examples.js";
export { groupByLength } from "./tokenize/group-by-length.js";
export type { GroupByLengthOptions } from "./tokenize/group-by-length.js";

// ROUGE-L
export { rougeL, rougeFromLcs } from "./rouge/rouge-l.js";
export type { RougeScore } from "./rouge/rouge-l.js";
export { rougeScoreTokenize, unicodeTokenize } from "./rouge/rouge-tokenize.js";
export type { RougeTokenizerName } from "./rouge/rouge-tokenize.js";
export { lcsLength, LcsMatcher } from "./rouge/lcs.js";
export { RougeSimilarityIndex, topScores } from "./rouge/rouge-similarity-index.js";
export { dedupByRouge } from "./rouge/dedup-by-rouge.js";
export type { DedupByRougeOptions, NearDuplicate } from "./rouge/dedup-by-rouge.js";

// Self-instruct generation
export { generateInstructions } from "./self-instruct/generate-instructions.js";
export type {
  GenerateInstructionsOptions,
  GenerateInstructionsResult,
  GenerationPricing,
  GenerationProgress,
} from "./self-instruct/generate-instructions.js";
export { encodeSelfInstructPrompt } from "./self-instruct/encode-prompt.js";
export { ALPACA_SELF_INSTRUCT_PROMPT } from "./self-instruct/alpaca-prompt.js";
export { parseGeneratedInstructions } from "./self-instruct/parse-generated-instructions.js";
export type { ParseGeneratedOptions } from "./self-instruct/parse-generated-instructions.js";
export { DEFAULT_BLACKLIST, instructionRejectionReason } from "./self-instruct/instruction-filters.js";
export type { InstructionFilterOptions, RejectionReason } from "./self-instruct/instruction-filters.js";
export { GeneratedInstructionStore } from "./self-instruct/generated-instruction-store.js";
export type { GeneratedInstruction } from "./self-instruct/generated-instruction-store.js";
export { TeacherClient } from "./self-instruct/teacher-client.js";
export type {
  TeacherAnswer,
  TeacherApi,
  TeacherClientOptions,
  TeacherRequest,
} from "./self-instruct/teacher-client.js";
export { TeacherError } from "./self-instruct/teacher-error.js";

// Analysis
export { analyzeVerbNoun, extractVerbNoun, singularNoun } from "./analysis/verb-noun.js";
export type { VerbNoun, VerbNounAnalysis } from "./analysis/verb-noun.js";
export { verbNounSunburstSvg } from "./analysis/sunburst-svg.js";
export type { SunburstOptions } from "./analysis/sunburst-svg.js";
export { tfidfVectors } from "./analysis/tfidf.js";
export type { SparseVector, TfidfModel } from "./analysis/tfidf.js";
export { kMeans, silhouetteScore } from "./analysis/kmeans.js";
export type { KMeansResult } from "./analysis/kmeans.js";
export { clusterInstructions, formatClusterReport } from "./analysis/cluster-instructions.js";
export type {
  ClusterInstructionsOptions,
  InstructionCluster,
  InstructionClustering,
} from "./analysis/cluster-instructions.js";
export { datasetStats, summarizeLengths } from "./analysis/dataset-stats.js";
export type { DatasetStats, LengthSummary } from "./analysis/dataset-stats.js";
export { syntheticInstructions } from "./rouge/synthetic-instructions.js";
