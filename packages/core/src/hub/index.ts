export { resolveRepoFile } from "./resolve-repo-file.js";
export type { ResolveRepoFileOptions } from "./resolve-repo-file.js";
export { downloadRepo } from "./download-repo.js";
export type { DownloadRepoOptions, DownloadedRepo } from "./download-repo.js";
export { hubSettingsFromEnv, hubCacheDir, DEFAULT_HUB_URL } from "./settings.js";
export type { HubSettings } from "./settings.js";
export { isLocalPath, isRepoId, repoFolderName } from "./repo-id.js";
export { globToRegExp, matchesAnyGlob } from "./glob.js";
export type { HubOptions, HubProgress, RepoType } from "./types.js";
