# shellcheck shell=bash disable=SC2034 # sourced: variables are used by the callers
# Shared settings for start.sh / stop.sh / reset.sh / tool.sh (sourced, not run).
KAFKA_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$KAFKA_SCRIPT_DIR/../.." && pwd)"

KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HOME_DIR="${KAFKA_HOME_DIR:-$REPO/.kafka}"

LIBS_DIR="$KAFKA_HOME_DIR/libs"
DATA_DIR="$KAFKA_HOME_DIR/data"
LOG_DIR="$KAFKA_HOME_DIR/logs"
CONF_DIR="$KAFKA_HOME_DIR/config"
PID_FILE="$KAFKA_HOME_DIR/kafka.pid"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"

# True when something accepts TCP connections on the broker port.
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$KAFKA_PORT" 2>/dev/null; }

# Pid of our broker if it is alive. The cmdline check guards against a stale
# pid file whose pid was reused by an unrelated process.
broker_pid() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
  [[ -n "$pid" ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'kafka\.Kafka' && echo "$pid"
}

# Run a Kafka main class (CLI tool) on the cached classpath. Tools log only
# errors, to stderr; the JIT flags cut JVM start-up time for these short runs.
# KAFKA_TOOL_TIMEOUT (s) bounds the run; 0 = none (--foreground keeps Ctrl-C/TTY working).
kafka_class() {
  timeout --foreground "${KAFKA_TOOL_TIMEOUT:-0}" java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$CONF_DIR/tools-log4j2.properties" \
    -cp "$LIBS_DIR/*" "$@"
}
