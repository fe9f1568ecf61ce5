// Fails the run when any test was skipped or left as todo: a required suite never passes by not running.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
if (report.numTotalTests === 0) {
  console.error('no test ran');
  process.exit(1);
}
if (skipped > 0 || report.numFailedTests > 0 || !report.success) {
  for (const file of report.testResults) {
    for (const test of file.assertionResults) {
      if (test.status !== 'passed') console.error(`${test.status}: ${test.fullName} (${file.name})`);
    }
  }
  process.exit(1);
}
