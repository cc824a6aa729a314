#!/usr/bin/env bash
# Installs everything the tests need and runs every test: unit specs beside the code and
# end-to-end suites in test/ against the local PostgreSQL and NATS.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-services.sh
# onnxruntime-node would fetch CUDA files from NuGet, which this machine cannot reach.
export ONNXRUNTIME_NODE_INSTALL=skip
npm ci --no-audit --no-fund
npm run build

mkdir -p .test-output
status=0
npx jest --ci --json --outputFile=.test-output/jest.json "$@" || status=$?

# One closing line in the plain 'N passed, N failed' form, whatever the runner printed above.
node -e '
  const report = require("./.test-output/jest.json");
  console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests} skipped`);
'
exit "$status"
