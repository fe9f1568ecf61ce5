#!/usr/bin/env bash
# Start a single-node KRaft Kafka broker on 127.0.0.1:$KAFKA_PORT without Docker.
# The broker jars come from Maven Central via scripts/kafka/pom.xml.
# Idempotent: exits 0 at once if the broker already answers.
# Env: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_HOME_DIR (<repo>/.kafka),
#      KAFKA_START_TIMEOUT (60 s), KAFKA_HEAP_OPTS (-Xms256m -Xmx512m).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
TIMEOUT="${KAFKA_START_TIMEOUT:-60}"

mkdir -p "$KAFKA_HOME_DIR" "$LOG_DIR" "$CONF_DIR"
# Keep the cache dir out of git without touching the repo's .gitignore.
[[ -f "$KAFKA_HOME_DIR/.gitignore" ]] || echo '*' >"$KAFKA_HOME_DIR/.gitignore"
# Serialise concurrent start.sh runs (e.g. parallel test jobs).
exec 9>"$KAFKA_HOME_DIR/.start.lock"
flock 9

if port_open; then
  echo "kafka: already running on $BOOTSTRAP"
  exit 0
fi

# 1. Runtime classpath, re-fetched only when pom.xml changes (versions live there).
stamp="$(sha256sum "$KAFKA_SCRIPT_DIR/pom.xml" | cut -d' ' -f1)"
if [[ "$(cat "$LIBS_DIR/.stamp" 2>/dev/null)" != "$stamp" ]]; then
  echo "kafka: fetching broker jars with Maven (first run downloads ~45 MB)..."
  rm -rf "$LIBS_DIR"
  if ! mvn -B -q -Dstyle.color=never -f "$KAFKA_SCRIPT_DIR/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$LIBS_DIR" -DincludeScope=runtime >"$LOG_DIR/mvn.log" 2>&1; then
    cat "$LOG_DIR/mvn.log" >&2; echo "kafka: maven failed" >&2; exit 1
  fi
  echo "$stamp" >"$LIBS_DIR/.stamp"
fi

# 2. Config, rewritten every start so env changes (ports) take effect.
cat >"$CONF_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR
# One node: every internal topic has RF 1 and few partitions (defaults are 50).
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=3
# Tests: no 3 s wait before the first consumer-group rebalance; topics are explicit.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
EOF

# Broker logs go to a rolling file, never the console.
cat >"$CONF_DIR/log4j2.properties" <<EOF
appender.file.type=RollingFile
appender.file.name=file
appender.file.fileName=$LOG_DIR/server.log
appender.file.filePattern=$LOG_DIR/server.log.%i
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
appender.file.policies.type=Policies
appender.file.policies.size.type=SizeBasedTriggeringPolicy
appender.file.policies.size.size=20MB
appender.file.strategy.type=DefaultRolloverStrategy
appender.file.strategy.max=3
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
# Per-request client/state-change chatter is noise for dev and tests.
logger.clients.name=org.apache.kafka.clients
logger.clients.level=WARN
logger.state.name=state.change.logger
logger.state.level=WARN
EOF
printf 'rootLogger.level=ERROR\nrootLogger.appenderRef.err.ref=err\nappender.err.type=Console\nappender.err.name=err\nappender.err.target=SYSTEM_ERR\nappender.err.layout.type=PatternLayout\nappender.err.layout.pattern=%%p %%m%%n\n' \
  >"$CONF_DIR/tools-log4j2.properties"

# 3. Format storage once; meta.properties marks a formatted log dir.
if [[ ! -f "$DATA_DIR/meta.properties" ]]; then
  cluster_id="$(kafka_class kafka.tools.StorageTool random-uuid)"
  kafka_class kafka.tools.StorageTool format -t "$cluster_id" -c "$CONF_DIR/server.properties" >"$LOG_DIR/format.log"
fi

# 4. Launch detached (own session, survives the caller's shell/terminal),
#    unless a previous start.sh left one still booting.
log_start=$(($(wc -l 2>/dev/null <"$LOG_DIR/server.log" || echo 0) + 1))  # this run's log lines
if ! broker_pid >/dev/null; then
  rm -f "$PID_FILE"
  # shellcheck disable=SC2086,SC2016 # HEAP_OPTS is a flag list; $$ expands in the child
  nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$CONF_DIR/log4j2.properties" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$CONF_DIR/server.properties" \
    >"$LOG_DIR/stdout.log" 2>&1 </dev/null 9>&- &  # 9>&-: the broker must not inherit the lock
  for _ in {1..50}; do [[ -s "$PID_FILE" ]] && break; sleep 0.1; done
fi

# 5. Wait for the port, then for a metadata round trip (proves it serves requests).
deadline=$((SECONDS + TIMEOUT))
until port_open && KAFKA_TOOL_TIMEOUT=20 kafka_class org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1; do
  if (( SECONDS >= deadline )) || ! broker_pid >/dev/null; then
    echo "kafka: broker did not become ready within ${TIMEOUT}s (or died). Errors, then log tail:" >&2
    tail -n "+$log_start" "$LOG_DIR/server.log" 2>/dev/null | grep -E ' (ERROR|FATAL) |^Caused by' | tail -n 10 >&2 || true
    tail -n 15 "$LOG_DIR/server.log" "$LOG_DIR/stdout.log" >&2 2>/dev/null || true
    exit 1
  fi
  sleep 0.5
done
echo "kafka: ready on $BOOTSTRAP (pid $(broker_pid), logs in $LOG_DIR)"
