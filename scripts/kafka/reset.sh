#!/usr/bin/env bash
# Stop the broker and wipe its data (topics, offsets, cluster id); keeps the jars,
# so the next start.sh just re-formats storage.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$KAFKA_SCRIPT_DIR/stop.sh"
rm -rf "$DATA_DIR" "$LOG_DIR"
echo "kafka: data removed from $DATA_DIR"
