#!/usr/bin/env bash
# Installs, builds and migrates, then indexes a folder of documents (default: samples/) and
# runs a few searches. Usage: npm run demo -- [folder] [--query "text" ...]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-services.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
npm run build >/dev/null

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/semantic_explorer}"
export DATA_DIR="${DATA_DIR:-$PWD/.data}"
# Its own streams, so that workers of another installation on the same NATS server do not take its jobs.
export NATS_STREAM_PREFIX="${NATS_STREAM_PREFIX:-demo}"
export LOG_LEVEL="${LOG_LEVEL:-error}"
node dist/src/platform/database/migrate.js --create-database
exec node dist/src/cli/index-folder.js "$@"
