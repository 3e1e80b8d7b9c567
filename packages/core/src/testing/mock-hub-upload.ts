// The write side of the mock Hub: repo creation, branches, preupload, the LFS batch + basic PUT transfer, and the
// NDJSON commit, as @huggingface/hub's createRepo / createBranch / commit speak them (no xet: the batch answers
// "basic", so the library falls back to plain PUTs).
import { createHash } from "node:crypto";

export interface MockAccount {
  /** The access token ("hf_…") this account authenticates with. */
  token: string;
  /** User and org names it may create repos under and push to. */
  namespaces: string[];
  /** A read-only token: every write answers 403. */
  readOnly?: boolean;
}

export interface StoredFile {
  bytes: Uint8Array;
  lfs: boolean;
  etag: string;
}

export interface MockReply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const LFS_EXTENSIONS = /\.(safetensors|bin|model|pt|gguf|parquet)$/;
const LFS_MIN_SIZE = 10 * 1024 * 1024;

/** Where the Hub stores a file: LFS for weights and other binaries (by extension) and anything of 10 MiB or more. */
export function isLfsPath(path: string, size: number): boolean {
  return LFS_EXTENSIONS.test(path) || size >= LFS_MIN_SIZE;
}

/** The etag the Hub gives a file: the LFS sha256, or the git blob sha1. */
export function storedFile(bytes: Uint8Array, lfs: boolean): StoredFile {
  const etag = lfs
    ? createHash("sha256").update(bytes).digest("hex")
    : createHash("sha1").update(`blob ${bytes.byteLength}\0`).update(bytes).digest("hex");
  return { bytes, lfs, etag };
}

/** 401 for an unknown or missing token, 403 for a token that may not write under the repo's namespace. */
export function checkWrite(accounts: MockAccount[], authorization: string | undefined, repo: string): MockReply | null {
  const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
  const account = accounts.find((a) => a.token === token);
  if (!account) return { status: 401, body: { error: "Invalid credentials in Authorization header" } };
  const namespace = repo.split("/")[0];
  if (account.readOnly || !account.namespaces.includes(namespace))
    return {
      status: 403,
      body: { error: `You don't have the rights to write to ${repo}: this token cannot write under "${namespace}".` },
    };
  return null;
}

export interface PreuploadBody {
  files: { path: string; size: number }[];
}

export interface LfsBatchBody {
  operation: string;
  objects: { oid: string; size: number }[];
}

/** The preupload answer: which of the announced files go through LFS. */
export function preuploadReply(body: PreuploadBody): MockReply {
  return {
    status: 200,
    body: {
      files: body.files.map((f) => ({ path: f.path, uploadMode: isLfsPath(f.path, f.size) ? "lfs" : "regular" })),
    },
  };
}

/** The LFS batch answer: objects the store already holds get no upload action, so the client does not send them. */
export function lfsBatchReply(
  body: LfsBatchBody,
  blobs: Map<string, Uint8Array>,
  uploadUrl: (oid: string) => string,
): MockReply {
  if (body.operation !== "upload") return { status: 400, body: { message: "only uploads are mocked" } };
  return {
    status: 200,
    headers: { "Content-Type": "application/vnd.git-lfs+json" },
    body: {
      transfer: "basic",
      objects: body.objects.map(({ oid, size }) =>
        blobs.has(oid)
          ? { oid, size }
          : { oid, size, authenticated: true, actions: { upload: { href: uploadUrl(oid), expires_in: 3600 } } },
      ),
    },
  };
}

/** Stores one PUT LFS object after checking that its bytes hash to the oid it was announced under. */
export function storeLfsUpload(oid: string, bytes: Uint8Array, blobs: Map<string, Uint8Array>): MockReply {
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== oid) return { status: 400, body: { error: `sha256 mismatch: expected ${oid}, got ${actual}` } };
  blobs.set(oid, bytes);
  return { status: 200, body: {}, headers: { ETag: `"${oid}"` } };
}

interface CommitLine {
  key: "header" | "file" | "lfsFile" | "deletedFile";
  value: { path?: string; content?: string; encoding?: string; oid?: string; size?: number; summary?: string };
}

export interface ParsedCommit {
  summary: string;
  /** Path → new contents; null deletes. */
  changes: Map<string, StoredFile | null>;
}

/** Parses the NDJSON commit body; an LFS pointer to an object never uploaded is a 422, as on the Hub. */
export function parseCommit(text: string, blobs: Map<string, Uint8Array>): ParsedCommit | MockReply {
  const lines = text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as CommitLine);
  const header = lines.find((l) => l.key === "header");
  if (!header?.value.summary) return { status: 400, body: { error: "A commit needs a header with a summary" } };
  const changes = new Map<string, StoredFile | null>();
  for (const { key, value } of lines) {
    const path = value.path ?? "";
    if (key === "file") {
      const bytes = new Uint8Array(Buffer.from(value.content ?? "", value.encoding === "base64" ? "base64" : "utf8"));
      changes.set(path, storedFile(bytes, false));
    } else if (key === "lfsFile") {
      const blob = blobs.get(value.oid ?? "");
      if (!blob || blob.byteLength !== value.size)
        return {
          status: 422,
          body: { error: `Your push was rejected: LFS object ${value.oid} of ${path} is missing` },
        };
      changes.set(path, storedFile(blob, true));
    } else if (key === "deletedFile") changes.set(path, null);
  }
  return { summary: header.value.summary, changes };
}
