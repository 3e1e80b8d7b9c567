#!/usr/bin/env node
// Runs the first example of every package README as a user would: the packages packed with `pnpm pack`,
// installed with npm into a fresh project together with what the README's `npm install` line names, the
// ```ts block type-checked and run with node beside the small fixtures the README names. Fails loudly.
// Usage: node scripts/readme-examples.mjs [package …]   (after `npm run build`; needs the npm registry or its cache)
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("..", import.meta.url));
const EXAMPLE_TIMEOUT_MS = 300_000;

/** The fixtures a README example may name, each copied into the example's project under this name. */
const FIXTURES = {
  "llama1-tiny": "packages/llama-model/test-fixtures/llama1-tiny",
  "llama1-tiny-lora": "packages/peft-lora/test-fixtures/llama1-tiny-lora",
  "alpaca_data.json": "packages/instruct-data/test-fixtures/parquet/expected.json",
};

/** The fenced blocks of a Markdown file, in order. */
function fencedBlocks(markdown) {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], code: m[2] }));
}

/** The package names of the README's first `npm install …` line. */
function installLine(blocks, readme) {
  const line = blocks
    .filter((b) => b.lang === "sh")
    .flatMap((b) => b.code.split("\n"))
    .find((l) => /^npm install (?!-g)/.test(l));
  if (!line) throw new Error(`${readme}: no "npm install …" line in a \`\`\`sh block`);
  return line
    .replace(/^npm install /, "")
    .trim()
    .split(/\s+/);
}

/** Bare module specifiers the example imports (node: builtins left out). */
function importedPackages(code) {
  const names = [...code.matchAll(/\bfrom\s+["']([^"'.][^"']*)["']/g)].map((m) => m[1]);
  return names
    .filter((n) => !n.startsWith("node:") && !builtinModules.includes(n))
    .map((n) =>
      n
        .split("/")
        .slice(0, n.startsWith("@") ? 2 : 1)
        .join("/"),
    );
}

function run(cmd, args, options) {
  const result = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...options });
  return { status: result.error ? -1 : result.status, out: `${result.stdout ?? ""}${result.stderr ?? ""}`, result };
}

function publishablePackages() {
  return readdirSync(join(root, "packages"))
    .map((dir) => ({ dir: join(root, "packages", dir), json: join(root, "packages", dir, "package.json") }))
    .filter((p) => existsSync(p.json))
    .map((p) => ({ ...p, manifest: JSON.parse(readFileSync(p.json, "utf8")) }))
    .filter((p) => p.manifest.private !== true);
}

/** `pnpm pack` of every package (workspace: ranges become versions), name → tarball path. */
function packAll(packages, destination) {
  const tarballs = new Map();
  for (const p of packages) {
    if (!existsSync(join(p.dir, "dist")))
      throw new Error(`${relative(root, p.dir)}/dist is missing: run npm run build`);
    const packed = run(process.execPath, [
      join(root, "scripts/pnpm.mjs"),
      "-C",
      p.dir,
      "pack",
      "--pack-destination",
      destination,
    ]);
    if (packed.status !== 0) throw new Error(`pnpm pack in ${relative(root, p.dir)} failed:\n${packed.out}`);
    const file = join(destination, `${p.manifest.name.replace("@", "").replace("/", "-")}-${p.manifest.version}.tgz`);
    if (!existsSync(file)) throw new Error(`pnpm pack did not write ${file}:\n${packed.out}`);
    tarballs.set(p.manifest.name, file);
  }
  return tarballs;
}

/** A fresh npm project with `names` installed; our packages come from the tarballs, the rest from the registry. */
function freshProject(dir, names, tarballs) {
  mkdirSync(dir, { recursive: true });
  // Our packages that the install line does not name are still needed (dependencies): point npm at the tarballs.
  const overrides = Object.fromEntries(
    [...tarballs].filter(([name]) => !names.includes(name)).map(([name, file]) => [name, `file:${file}`]),
  );
  const manifest = { name: "readme-example", private: true, type: "module", overrides };
  writeFileSync(join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  const specs = names.map((n) => tarballs.get(n) ?? n);
  const install = run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...specs], {
    cwd: dir,
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  if (install.status !== 0) throw new Error(`npm install ${names.join(" ")} failed in ${dir}:\n${install.out}`);
}

/** Type errors of the example against the installed packages' types (strict, NodeNext, as a user compiles it). */
function typeErrors(file) {
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    types: ["node"],
    typeRoots: [join(root, "node_modules/@types")],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
    const at = where ? `example.ts:${where.line + 1}:${where.character + 1}: ` : "";
    return `${at}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

function checkExample(p, tarballs, work) {
  const readme = join(p.dir, "README.md");
  const markdown = readFileSync(readme, "utf8");
  const blocks = fencedBlocks(markdown);
  const example = blocks.find((b) => b.lang === "ts" || b.lang === "js");
  if (!example) throw new Error(`${relative(root, readme)}: no \`\`\`ts or \`\`\`js example`);
  const names = installLine(blocks, relative(root, readme));
  const missing = importedPackages(example.code).filter((n) => !names.includes(n));
  if (missing.length > 0)
    throw new Error(
      `${relative(root, readme)}: the example imports ${missing.join(", ")}, not in its npm install line`,
    );
  const dir = join(work, p.manifest.name.replace("@llamats/", ""));
  freshProject(dir, names, tarballs);
  for (const [name, source] of Object.entries(FIXTURES))
    if (example.code.includes(`./${name}`) || example.code.includes(`"${name}"`))
      cpSync(join(root, source), join(dir, name), { recursive: true });
  const tsFile = join(dir, `example.${example.lang}`);
  writeFileSync(tsFile, example.code);
  if (example.lang === "ts") {
    const errors = typeErrors(tsFile);
    if (errors.length > 0)
      throw new Error(`${relative(root, readme)}: the example does not type-check:\n${errors.join("\n")}`);
  }
  const js = ts.transpileModule(example.code, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  writeFileSync(join(dir, "example.mjs"), js);
  const started = performance.now();
  const ran = run(process.execPath, ["example.mjs"], { cwd: dir, timeout: EXAMPLE_TIMEOUT_MS });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (ran.result.error?.code === "ETIMEDOUT")
    throw new Error(`${relative(root, readme)}: the example ran past ${EXAMPLE_TIMEOUT_MS / 1000} s:\n${ran.out}`);
  if (ran.status !== 0)
    throw new Error(`${relative(root, readme)}: the example exited with ${ran.status} (in ${dir}):\n${ran.out}`);
  return `${p.manifest.name}: README example ran in ${seconds} s (npm install ${names.join(" ")})`;
}

/** The CLI from its tarball: `llamats env` works; a bad model path is exit 1 and one line, on every test backend. */
function checkCli(p, tarballs, work) {
  const dir = join(work, "cli");
  freshProject(dir, [p.manifest.name], tarballs);
  const bin = join(dir, "node_modules/.bin/llamats");
  const env = run(bin, ["env"], { cwd: dir, timeout: 120_000 });
  if (env.status !== 0) throw new Error(`llamats env exited with ${env.status}:\n${env.out}`);
  const backends = (process.env.LLAMATS_TEST_BACKENDS ?? "cpu,wasm").split(",").map((b) => b.trim());
  for (const backend of backends) {
    const bad = run(bin, ["generate", "./no-such-model", "--prompt", "hi", "--backend", backend], {
      cwd: dir,
      timeout: 120_000,
    });
    const lines = bad.result.stderr.split("\n").filter((l) => l.trim() !== "");
    // The one-line warning that a software WebGPU adapter is a CPU emulation is not the error.
    const errorLines = lines.filter((l) => !/^warning: WebGPU adapter .* is a CPU emulation/.test(l));
    if (bad.status !== 1 || errorLines.length !== 1 || !/no-such-model/.test(errorLines[0]))
      throw new Error(
        `llamats generate ./no-such-model --backend ${backend}: expected exit 1 and one line naming the path, ` +
          `got exit ${bad.status} and:\n${bad.result.stderr}`,
      );
  }
  return `${p.manifest.name}: llamats env ran; a bad model path exits 1 with one line on ${backends.join(", ")}`;
}

function main() {
  const only = process.argv.slice(2);
  const work = mkdtempSync(join(tmpdir(), "llamats-readme-"));
  const failures = [];
  try {
    const packages = publishablePackages();
    const tarballs = packAll(packages, join(work, "tarballs"));
    for (const p of packages) {
      if (only.length > 0 && !only.some((o) => p.manifest.name.endsWith(o))) continue;
      try {
        const line = p.manifest.name === "@llamats/cli" ? checkCli(p, tarballs, work) : checkExample(p, tarballs, work);
        console.log(`ok   ${line}`);
      } catch (error) {
        failures.push(p.manifest.name);
        console.error(`FAIL ${p.manifest.name}: ${error.message}`);
      }
    }
  } finally {
    if (failures.length === 0 || process.env.CI) rmSync(work, { recursive: true, force: true });
    else console.error(`(kept ${work} to look at)`);
  }
  if (failures.length > 0) {
    console.error(`README examples failed: ${failures.join(", ")}`);
    process.exit(1);
  }
}

main();
