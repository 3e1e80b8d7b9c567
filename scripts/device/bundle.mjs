#!/usr/bin/env node
// Packs what `scripts/device/run.sh` needs on a GPU machine that has no Node.js packages: one esbuild bundle of
// the CLI (from the packages' TypeScript sources, so no build step and no stale dist), Dawn's Linux binary (xz),
// and two tiny node_modules shims so that the CLI's runtime look-ups of `webgpu` and
// `@tensorflow/tfjs-backend-webgpu` find them.
// Usage, from the repo root: node scripts/device/bundle.mjs [--from src|dist] [DIR]
// (--from dist bundles the last `tsup` builds instead: for when a source file is mid-edit.)
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const argv = process.argv.slice(2);
const fromIndex = argv.indexOf("--from");
const from = fromIndex >= 0 ? argv.splice(fromIndex, 2)[1] : "src";
if (from !== "src" && from !== "dist") {
  process.stderr.write(`bundle: --from takes src or dist; got "${from}"\n`);
  process.exit(2);
}
const out = resolve(root, argv[0] ?? ".device-bundle");
const requireFrom = (dir) => createRequire(join(dir, "package.json"));
const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
const die = (message) => {
  process.stderr.write(`bundle: ${message}\n`);
  process.exit(1);
};

// esbuild: the one tsup already installed (no package.json change, no network); else the same pinned version via npx.
const ESBUILD_VERSION = "0.27.7";
async function loadEsbuild() {
  try {
    const tsup = requireFrom(root).resolve("tsup");
    return createRequire(tsup)("esbuild");
  } catch {
    process.stderr.write(`bundle: esbuild not found beside tsup; using npx esbuild@${ESBUILD_VERSION}\n`);
    const dir = execFileSync(
      "npx",
      [
        "--yes",
        "-p",
        `esbuild@${ESBUILD_VERSION}`,
        "node",
        "-p",
        "require('path').dirname(require.resolve('esbuild/package.json'))",
      ],
      { encoding: "utf8" },
    ).trim();
    return createRequire(join(dir, "package.json"))("esbuild");
  }
}

// Workspace packages map to their sources (`@llamats/core` → packages/core/src/index.ts) or, --from dist, their builds.
const entryFile = from === "src" ? "src/index.ts" : "dist/index.js";
const workspace = Object.fromEntries(
  readdirSync(join(root, "packages"))
    .filter((name) => existsSync(join(root, "packages", name, entryFile)))
    .map((name) => [
      readJson(join(root, "packages", name, "package.json")).name,
      join(root, "packages", name, entryFile),
    ]),
);
const coreDir = join(root, "packages/core");
const cliDir = join(root, "packages/cli");

const sourcesPlugin = {
  name: "llamats-sources",
  setup(build) {
    build.onResolve({ filter: /^@llamats\/[a-z-]+$/ }, (args) =>
      workspace[args.path] ? { path: workspace[args.path] } : undefined,
    );
    // The tfjs WebGPU backend, as a second entry the runtime shim re-exports (it must share the bundle's tfjs-core).
    build.onResolve({ filter: /^llamats-entry:/ }, (args) => ({ path: args.path, namespace: "llamats-entry" }));
    build.onLoad({ filter: /.*/, namespace: "llamats-entry" }, (args) => ({
      contents: `export * from '${args.path.slice("llamats-entry:".length)}';\n`,
      resolveDir: coreDir,
      loader: "js",
    }));
  },
};

const esbuild = await loadEsbuild();
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: [
    { in: join(cliDir, from === "src" ? "src/bin.ts" : "dist/bin.js"), out: "bin" },
    { in: "llamats-entry:@tensorflow/tfjs-backend-webgpu", out: "tfjs-backend-webgpu" },
  ],
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // ESM builds everywhere: one copy of tfjs-core, shared by the CLI and the WebGPU backend chunk.
  mainFields: ["module", "main"],
  loader: { ".html": "text" },
  // Loaded at run time by name, never needed by a webgpu bench. (The wasm and cpu backends are imported through a
  // variable in attempts.ts, so esbuild leaves them out anyway; listing them here would also drop
  // tfjs-backend-cpu/dist/shared, which the WebGPU backend imports.)
  external: ["webgpu", "@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu", "@huggingface/tokenizers"],
  // CommonJS dependencies (seedrandom, long) call require(): give ESM chunks one.
  banner: {
    js: "import { createRequire as __llamatsCreateRequire } from 'node:module'; const require = __llamatsCreateRequire(import.meta.url);",
  },
  plugins: [sourcesPlugin],
  logLevel: "warning",
  metafile: true,
  legalComments: "none",
});
if (result.errors.length > 0) die(`esbuild failed (${result.errors.length} errors)`);

// node_modules/webgpu: Dawn's package, Linux x64 only; the .node travels xz-compressed (18 → 4 MiB) and run.sh unpacks it.
const webgpuDir = dirname(requireFrom(coreDir).resolve("webgpu"));
const webgpuPkg = readJson(join(webgpuDir, "package.json"));
const shimWebgpu = join(out, "node_modules/webgpu");
mkdirSync(join(shimWebgpu, "dist"), { recursive: true });
writeFileSync(
  join(shimWebgpu, "package.json"),
  `${JSON.stringify({ name: "webgpu", version: webgpuPkg.version, type: "module", main: "index.js" }, null, 2)}\n`,
);
copyFileSync(join(webgpuDir, "index.js"), join(shimWebgpu, "index.js"));
copyFileSync(join(webgpuDir, "LICENSE.md"), join(shimWebgpu, "LICENSE.md"));
const dawn = join(webgpuDir, "dist/linux-x64.dawn.node");
if (!existsSync(dawn)) die(`${dawn} is missing (is the webgpu package installed?)`);
writeFileSync(
  join(shimWebgpu, "dist/linux-x64.dawn.node.xz"),
  execFileSync("xz", ["-T0", "-9", "-c", dawn], { maxBuffer: 64 << 20 }),
);

// node_modules/@tensorflow/tfjs-backend-webgpu: re-exports the bundled chunk, so `import('@tensorflow/tfjs-backend-webgpu')` works.
const tfjsWebgpuVersion = readJson(
  requireFrom(coreDir).resolve("@tensorflow/tfjs-backend-webgpu/package.json"),
).version;
const shimTfjs = join(out, "node_modules/@tensorflow/tfjs-backend-webgpu");
mkdirSync(shimTfjs, { recursive: true });
writeFileSync(
  join(shimTfjs, "package.json"),
  `${JSON.stringify({ name: "@tensorflow/tfjs-backend-webgpu", version: tfjsWebgpuVersion, type: "module", main: "index.js" }, null, 2)}\n`,
);
writeFileSync(join(shimTfjs, "index.js"), "export * from '../../../tfjs-backend-webgpu.mjs';\n");

// Versions for `llamats env`: the CLI's own package.json beside bin.mjs, and @llamats/core's.
const cliVersion = readJson(join(cliDir, "package.json")).version;
const coreVersion = readJson(join(coreDir, "package.json")).version;
writeFileSync(
  join(out, "package.json"),
  `${JSON.stringify({ name: "@llamats/cli", version: cliVersion, private: true, type: "module" }, null, 2)}\n`,
);
mkdirSync(join(out, "node_modules/@llamats/core"), { recursive: true });
writeFileSync(
  join(out, "node_modules/@llamats/core/package.json"),
  `${JSON.stringify({ name: "@llamats/core", version: coreVersion }, null, 2)}\n`,
);

// ../shared does not travel to the device machine: carry the kit's setup script along.
const setup = resolve(root, "../shared/device/setup.sh");
if (existsSync(setup)) copyFileSync(setup, join(out, "setup.sh"));
else process.stderr.write(`bundle: ${setup} not found; run.sh will need ../shared/device/setup.sh there\n`);

function git(args) {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}
function sizeOf(path) {
  const s = statSync(path);
  return s.isDirectory() ? readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0) : s.size;
}
const changed = git(["diff", "--name-only", "HEAD", "--", "packages"]);
const info = {
  built_at: new Date().toISOString(),
  git_commit: git(["rev-parse", "HEAD"]),
  // Uncommitted source edits that went into the bundle (the bundle is built from the working tree).
  changed_package_files: changed === null ? null : changed.split("\n").filter(Boolean),
  built_from: from,
  esbuild: esbuild.version,
  builder_node: process.version,
  webgpu: webgpuPkg.version,
  tfjs_backend_webgpu: tfjsWebgpuVersion,
  llamats_cli: cliVersion,
  backends: ["webgpu"],
  bundle_bytes: 0,
};
info.bundle_bytes = sizeOf(out) + 4096;
writeFileSync(join(out, "bundle-info.json"), `${JSON.stringify(info, null, 2)}\n`);

const kit = join(root, ".device");
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const kitBytes = existsSync(kit) ? sizeOf(kit) : 0;
process.stdout.write(`bundle: ${relative(root, out)}/ ${mib(info.bundle_bytes)}`);
process.stdout.write(
  kitBytes
    ? `; with .device ${mib(info.bundle_bytes + kitBytes)}\n`
    : "; .device not packed yet: bash ../shared/device/pack.sh .device\n",
);
