#!/usr/bin/env bash
# Run a Kafka CLI tool on the broker's cached classpath (start.sh must have run once).
#   scripts/kafka/tool.sh topics --create --topic t --partitions 3
#   scripts/kafka/tool.sh producer --topic t        (lines from stdin)
#   scripts/kafka/tool.sh consumer --topic t --from-beginning --max-messages 1
#   scripts/kafka/tool.sh groups --list
#   scripts/kafka/tool.sh org.apache.kafka.tools.SomeOtherTool ...
# --bootstrap-server is added for the short names.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
[[ $# -ge 1 ]] || { sed -n '2,8p' "$0"; exit 2; }
case "$1" in
  topics)   cls=org.apache.kafka.tools.TopicCommand ;;
  producer) cls=org.apache.kafka.tools.ConsoleProducer ;;
  consumer) cls=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  groups)   cls=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
  *)        kafka_class "$@"; exit ;;
esac
shift
kafka_class "$cls" --bootstrap-server "$BOOTSTRAP" "$@"
