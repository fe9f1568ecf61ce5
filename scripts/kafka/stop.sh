#!/usr/bin/env bash
# Stop the broker started by start.sh: SIGTERM (clean shutdown, flushes logs),
# then SIGKILL after KAFKA_STOP_TIMEOUT (30) s. A no-op when nothing runs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if ! pid="$(broker_pid)"; then
  rm -f "$PID_FILE"
  echo "kafka: not running"
  # Only the pid file is trusted; never kill an unknown process on the port.
  port_open && echo "kafka: note: something else answers on port $KAFKA_PORT" >&2
  exit 0
fi

kill -TERM "$pid"
for _ in $(seq 1 $((${KAFKA_STOP_TIMEOUT:-30} * 10))); do
  [[ -d "/proc/$pid" ]] || { rm -f "$PID_FILE"; echo "kafka: stopped (pid $pid)"; exit 0; }
  sleep 0.1
done
echo "kafka: pid $pid ignored SIGTERM, sending SIGKILL" >&2
kill -KILL "$pid" 2>/dev/null || true
rm -f "$PID_FILE"
