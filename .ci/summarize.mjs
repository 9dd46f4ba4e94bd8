// Sums the JSON reports of CI's test runs and names every failure at the end of the log,
// where a reader of a truncated CI output still sees it. Exits non-zero when a report is
// missing or ran nothing.
import { existsSync, readFileSync } from "node:fs";

const files = [
  ".stackl/test-results.json",
  ".stackl/cluster-results.json",
  ".stackl/overload-results.json",
  ".stackl/chaos-results.json",
];
const present = files.filter((file) => existsSync(file));
const runs = present.map((file) => ({ file, report: JSON.parse(readFileSync(file, "utf8")) }));

for (const { file, report } of runs) {
  for (const suite of report.testResults) {
    const where = suite.name.replace(/^.*?\/test\//, "test/");
    // A file that fails to load has no assertions but a message of its own.
    if (suite.status === "failed" && suite.assertionResults.length === 0) {
      console.log(`FAILED ${where} (${file}): ${firstLine(suite.message)}`);
    }
    for (const test of suite.assertionResults) {
      if (test.status !== "failed") continue;
      console.log(`FAILED ${where} > ${test.fullName}: ${firstLine(test.failureMessages.join("\n"))}`);
    }
  }
}

const passed = runs.reduce((n, { report }) => n + report.numPassedTests, 0);
const failed = runs.reduce((n, { report }) => n + report.numFailedTests, 0);
console.log(`${passed} passed, ${failed} failed`);
const missing = files.filter((file) => !present.includes(file));
const empty = runs.filter(({ report }) => report.numTotalTests === 0).map(({ file }) => file);
if (missing.length > 0 || empty.length > 0) {
  console.error(`a test run is missing or ran nothing: ${[...missing, ...empty].join(", ")}`);
  process.exit(1);
}

function firstLine(text) {
  const line = (text ?? "").split("\n").find((l) => l.trim() !== "") ?? "(no message)";
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
