// A small stand-in for the Hugging Face Hub on 127.0.0.1, speaking the endpoints @huggingface/hub calls,
// for offline tests of downloads and pushes (here and in other packages, via `@llamats/core/testing`).
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  checkWrite,
  isLfsPath,
  lfsBatchReply,
  parseCommit,
  preuploadReply,
  storeLfsUpload,
  storedFile,
  type LfsBatchBody,
  type MockAccount,
  type MockReply,
  type PreuploadBody,
  type StoredFile,
} from "./mock-hub-upload.js";

export type { MockAccount } from "./mock-hub-upload.js";

export interface MockRepo {
  /** "org/name". */
  id: string;
  type?: "model" | "dataset";
  /** Repo path → contents. */
  files: Record<string, string | Uint8Array>;
  /** Answers 401 without a token and 403 with a token not in `tokens`. */
  gated?: boolean;
  /** Tokens that may read this gated repo; default ["hf_allowed"]. */
  tokens?: string[];
  /** Branches and tags besides "main"; all point at the one commit. */
  refs?: string[];
  /** Files served with one byte flipped (their etag still names the true contents), to test checksums. */
  corrupt?: string[];
  /** Readable only with the token of an account that may write under its namespace (401 without a token). */
  private?: boolean;
}

export interface MockRequest {
  method: string;
  /** The path and query, as sent. */
  url: string;
  range: string | undefined;
  authorization: string | undefined;
}

export interface MockHub {
  /** Base URL to pass as `hubUrl` (or `HF_ENDPOINT`). */
  url: string;
  requests: MockRequest[];
  /** The commit sha of a repo. */
  commitOf(repo: string): string;
  /** The etag (LFS sha256 or git blob sha1) of a file, as the cache names its blob. */
  etagOf(repo: string, file: string): string;
  /** Requests that fetched file contents (GET resolve without a 0-0 range probe). */
  contentRequests(): MockRequest[];
  /** A repo as it stands now (after pushes): its files' bytes, visibility and commit summaries, oldest first. */
  repo(id: string): { private: boolean; files: Map<string, Uint8Array>; commits: string[] } | undefined;
  /** LFS objects PUT to the store, by sha256 (what a resumed push must not send again). */
  lfsUploads(): string[];
  close(): Promise<void>;
}

interface StoredRepo {
  repo: MockRepo;
  sha: string;
  files: Map<string, StoredFile>;
  commits: string[];
}

function store(repo: MockRepo): StoredRepo {
  const files = new Map<string, StoredFile>();
  const commit = createHash("sha1").update(repo.id);
  for (const [path, contents] of Object.entries(repo.files)) {
    const bytes = typeof contents === "string" ? new TextEncoder().encode(contents) : contents;
    const file = storedFile(bytes, isLfsPath(path, bytes.byteLength));
    files.set(path, file);
    commit.update(path).update(file.etag);
  }
  // A copy: pushes (new branches) change the stored repo, never the caller's object.
  return { repo: { ...repo }, sha: commit.digest("hex"), files, commits: [] };
}

/** Applies a commit: the new sha hashes the parent's with every change, so each push gets its own commit. */
function applyCommit(stored: StoredRepo, summary: string, changes: Map<string, StoredFile | null>): void {
  const commit = createHash("sha1").update(stored.sha).update(summary);
  for (const [path, file] of changes) {
    if (file) stored.files.set(path, file);
    else stored.files.delete(path);
    commit.update(path).update(file?.etag ?? "deleted");
  }
  stored.sha = commit.digest("hex");
  stored.commits.push(summary);
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function fileEntry(path: string, file: StoredFile, sha: string, expand: boolean): Record<string, unknown> {
  const entry: Record<string, unknown> = {
    type: "file",
    path,
    size: file.bytes.byteLength,
    oid: file.lfs ? createHash("sha1").update(path).digest("hex") : file.etag,
  };
  if (file.lfs) entry.lfs = { oid: file.etag, size: file.bytes.byteLength, pointerSize: 134 };
  if (expand) entry.lastCommit = { id: sha, title: "Upload", date: "2024-01-01T00:00:00.000Z" };
  return entry;
}

async function bytesOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  return (await bytesOf(req)).toString("utf8");
}

function reply(res: ServerResponse, answer: MockReply): void {
  json(res, answer.status, answer.body, answer.headers);
}

export interface MockHubOptions {
  repos: MockRepo[];
  /** Accounts whose tokens may create repos and push; default one account "hf_writer" for the namespace "user". */
  accounts?: MockAccount[];
}

/** Starts the mock Hub on a free port of 127.0.0.1. */
export async function startMockHub(options: MockHubOptions): Promise<MockHub> {
  const repos = new Map(options.repos.map((r) => [`${r.type ?? "model"}:${r.id}`, store(r)]));
  const accounts = options.accounts ?? [{ token: "hf_writer", namespaces: ["user"] }];
  const requests: MockRequest[] = [];
  // The LFS object store, by sha256: what the repos hold plus whatever was PUT (even by a push that never committed).
  const blobs = new Map<string, Uint8Array>();
  for (const stored of repos.values())
    for (const file of stored.files.values()) if (file.lfs) blobs.set(file.etag, file.bytes);
  const lfsUploads: string[] = [];
  let baseUrl = "";

  // Returns true when the request was refused (gated or private repo without an accepted token).
  const refused = (stored: StoredRepo, req: IncomingMessage, res: ServerResponse): boolean => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (stored.repo.private) {
      if (checkWrite(accounts, req.headers.authorization, stored.repo.id) === null) return false;
      json(res, token ? 404 : 401, { error: "Repository not found" }, { "X-Error-Code": "RepoNotFound" });
      return true;
    }
    if (!stored.repo.gated) return false;
    if (!token) {
      json(
        res,
        401,
        {
          error: `Access to model ${stored.repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
        },
        { "X-Error-Code": "GatedRepo" },
      );
      return true;
    }
    if (!(stored.repo.tokens ?? ["hf_allowed"]).includes(token)) {
      json(
        res,
        403,
        { error: `Access to model ${stored.repo.id} is restricted and you are not in the authorized list.` },
        { "X-Error-Code": "GatedRepo" },
      );
      return true;
    }
    return false;
  };
  const revisionOk = (stored: StoredRepo, rev: string): boolean =>
    rev === "main" || rev === stored.sha || (stored.repo.refs ?? []).includes(rev);

  // Repo creation, branches, preupload, LFS batch and PUT, commit; null when the path is not a write endpoint.
  const handleWrite = async (req: IncomingMessage, path: string): Promise<MockReply | null> => {
    const auth = req.headers.authorization;
    if (path === "/api/repos/create") {
      const body = JSON.parse(await bodyOf(req)) as {
        name: string;
        organization?: string;
        type?: string;
        visibility?: string;
      };
      const id = `${body.organization}/${body.name}`;
      const type = body.type === "dataset" ? "dataset" : "model";
      const denied = checkWrite(accounts, auth, id);
      if (denied) return denied;
      const url = `${baseUrl}/${type === "dataset" ? "datasets/" : ""}${id}`;
      if (repos.has(`${type}:${id}`))
        return { status: 409, body: { error: "You already created this model repo", url } };
      repos.set(`${type}:${id}`, store({ id, type, files: {}, private: body.visibility === "private" }));
      return { status: 200, body: { url, name: id, id: `id-${id}` } };
    }
    const upload = /^\/lfs-upload\/([0-9a-f]{64})$/.exec(path);
    if (upload && req.method === "PUT") {
      const answer = storeLfsUpload(upload[1], new Uint8Array(await bytesOf(req)), blobs);
      if (answer.status === 200) lfsUploads.push(upload[1]);
      return answer;
    }
    const batch = /^\/(datasets\/)?([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(path);
    const write = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/(preupload|commit|branch)\/([^/]+)$/.exec(path);
    if (!batch && !write) return null;
    const type = batch ? (batch[1] ? "dataset" : "model") : write?.[1] === "datasets" ? "dataset" : "model";
    const id = (batch?.[2] ?? write?.[2]) as string;
    const stored = repos.get(`${type}:${id}`);
    if (!stored)
      return { status: 404, body: { error: "Repository not found" }, headers: { "X-Error-Code": "RepoNotFound" } };
    const denied = checkWrite(accounts, auth, id);
    if (denied) return denied;
    const body = await bodyOf(req);
    if (batch) return lfsBatchReply(JSON.parse(body) as LfsBatchBody, blobs, (oid) => `${baseUrl}/lfs-upload/${oid}`);
    const rev = decodeURIComponent(write?.[4] ?? "main");
    if (write?.[3] === "branch") {
      stored.repo.refs = [...(stored.repo.refs ?? []), rev];
      return { status: 200, body: {} };
    }
    if (rev !== "main" && !(stored.repo.refs ?? []).includes(rev))
      return {
        status: 404,
        body: { error: `Invalid rev id: ${rev}` },
        headers: { "X-Error-Code": "RevisionNotFound" },
      };
    if (write?.[3] === "preupload") return preuploadReply(JSON.parse(body) as PreuploadBody);
    const parsed = parseCommit(body, blobs);
    if ("status" in parsed) return parsed;
    applyCommit(stored, parsed.summary, parsed.changes);
    return {
      status: 200,
      body: {
        success: true,
        commitOid: stored.sha,
        commitUrl: `${baseUrl}/${id}/commit/${stored.sha}`,
        hookOutput: "",
      },
    };
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      requests.push({
        method: req.method ?? "GET",
        url: req.url ?? "/",
        range: req.headers.range,
        authorization: req.headers.authorization,
      });
      if (req.method === "POST" || req.method === "PUT") {
        const answer = await handleWrite(req, url.pathname);
        if (answer) return reply(res, answer);
      }
      const api = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/(revision|paths-info|tree)(?:\/(.*))?$/.exec(
        url.pathname,
      );
      const resolve = /^\/(datasets\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
      const type = api ? (api[1] === "datasets" ? "dataset" : "model") : resolve?.[1] ? "dataset" : "model";
      const id = api?.[2] ?? resolve?.[2];
      const stored = id ? repos.get(`${type}:${id}`) : undefined;
      if (!id || (!api && !resolve)) return json(res, 404, { error: "Not found" });
      if (!stored) return json(res, 404, { error: "Repository not found" }, { "X-Error-Code": "RepoNotFound" });
      if (refused(stored, req, res)) return;
      const rev = decodeURIComponent((api ? api[4] : resolve?.[3]) ?? "main");
      if (!revisionOk(stored, rev))
        return json(res, 404, { error: `Invalid rev id: ${rev}` }, { "X-Error-Code": "RevisionNotFound" });
      if (api?.[3] === "revision") {
        return json(res, 200, {
          _id: `id-${stored.sha.slice(0, 8)}`,
          id: stored.repo.id,
          sha: stored.sha,
          private: Boolean(stored.repo.private),
          gated: stored.repo.gated ? "manual" : false,
          downloads: 0,
          likes: 0,
          lastModified: "2024-01-01T00:00:00.000Z",
          siblings: [...stored.files.keys()].map((rfilename) => ({ rfilename })),
        });
      }
      if (api?.[3] === "paths-info") {
        const body = JSON.parse(await bodyOf(req)) as { paths: string[]; expand?: boolean };
        const found = body.paths.filter((p) => stored.files.has(p));
        return json(
          res,
          200,
          found.map((p) => fileEntry(p, stored.files.get(p) as StoredFile, stored.sha, Boolean(body.expand))),
        );
      }
      if (api?.[3] === "tree") {
        return json(
          res,
          200,
          [...stored.files].map(([p, f]) => fileEntry(p, f, stored.sha, false)),
        );
      }
      const path = decodeURIComponent(resolve?.[4] ?? "");
      const file = stored.files.get(path);
      if (!file)
        return json(
          res,
          404,
          { error: "Entry not found" },
          { "X-Error-Code": "EntryNotFound", "X-Repo-Commit": stored.sha },
        );
      const size = file.bytes.byteLength;
      const served = stored.repo.corrupt?.includes(path) ? file.bytes.map((b, i) => (i === 0 ? b ^ 1 : b)) : file.bytes;
      const headers: Record<string, string> = {
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
        ETag: `"${file.etag}"`,
        "X-Repo-Commit": stored.sha,
      };
      if (file.lfs) Object.assign(headers, { "X-Linked-Etag": `"${file.etag}"`, "X-Linked-Size": String(size) });
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
      if (range) {
        const start = Number(range[1]);
        const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
        res.writeHead(206, {
          ...headers,
          "Content-Range": `bytes ${start}-${end}/${size}`,
          "Content-Length": String(end - start + 1),
        });
        return res.end(req.method === "HEAD" ? undefined : served.subarray(start, end + 1));
      }
      res.writeHead(200, { ...headers, "Content-Length": String(size) });
      res.end(req.method === "HEAD" ? undefined : served);
    })().catch((error: unknown) => json(res, 500, { error: String(error) }));
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  const find = (repo: string): StoredRepo => {
    const stored = repos.get(`model:${repo}`) ?? repos.get(`dataset:${repo}`);
    if (!stored) throw new Error(`mock hub has no repo ${repo}`);
    return stored;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    commitOf: (repo) => find(repo).sha,
    etagOf: (repo, file) => {
      const stored = find(repo).files.get(file);
      if (!stored) throw new Error(`mock hub repo ${repo} has no ${file}`);
      return stored.etag;
    },
    repo: (id) => {
      const stored = repos.get(`model:${id}`) ?? repos.get(`dataset:${id}`);
      if (!stored) return undefined;
      const files = new Map([...stored.files].map(([path, file]) => [path, file.bytes]));
      return { private: Boolean(stored.repo.private), files, commits: [...stored.commits] };
    },
    lfsUploads: () => [...lfsUploads],
    contentRequests: () =>
      requests.filter((r) => r.method === "GET" && r.url.includes("/resolve/") && r.range !== "bytes=0-0"),
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
