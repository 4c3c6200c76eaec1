"""kafka-python driven by eddy's interop tests (internal/interop/python_test.go).

Run with Debian's /usr/bin/python3 and its python3-kafka package:

    kafka_python_client.py produce BOOTSTRAP TOPIC COUNT
        sends COUNT records (key "key<i>", value "py-<i>") with acks='all' and
        prints {"acked": [[i, partition, offset], ...], "api_version": "2.4.0"}
        once all are acknowledged (api_version: the version it detected).

    kafka_python_client.py consume BOOTSTRAP TOPIC GROUP WANT
        consumes in consumer group GROUP with auto-commit off until it has at
        least WANT records, commits synchronously, and prints
        {"records": [[partition, offset, key, value], ...],
         "committed": {partition: offset}} (the committed offsets read back).

The broker version is auto-detected (no api_version), as a user would leave it.
Exits non-zero, after printing what it has, when WANT records do not arrive
within the deadline.
"""

import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

DEADLINE_SECONDS = 30


def produce(bootstrap, topic, count):
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        key_serializer=str.encode,
        value_serializer=str.encode,
    )
    futures = [(i, producer.send(topic, key=f"key{i}", value=f"py-{i}")) for i in range(count)]
    producer.flush(timeout=DEADLINE_SECONDS)
    acked = []
    for i, future in futures:
        meta = future.get(timeout=DEADLINE_SECONDS)
        acked.append([i, meta.partition, meta.offset])
    api_version = ".".join(map(str, producer.config["api_version"]))
    producer.close(timeout=5)
    json.dump({"acked": acked, "api_version": api_version}, sys.stdout)
    return 0


def consume(bootstrap, topic, group, want):
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # Small polls, so a run can stop part way through the topic.
        max_poll_records=100,
    )
    records = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(records) < want and time.monotonic() < deadline:
        for tp, msgs in consumer.poll(timeout_ms=500).items():
            for m in msgs:
                records.append([tp.partition, m.offset, m.key.decode(), m.value.decode()])
    # Commits the position after every record poll returned, including any
    # beyond WANT: the test expects those to be counted as consumed.
    consumer.commit()
    committed = {}
    for p in sorted(consumer.partitions_for_topic(topic) or []):
        offset = consumer.committed(TopicPartition(topic, p))
        if offset is not None:
            committed[p] = offset
    consumer.close(autocommit=False)
    json.dump({"records": records, "committed": committed}, sys.stdout)
    if len(records) < want:
        print(f"consumed {len(records)} of {want} records in {DEADLINE_SECONDS}s", file=sys.stderr)
        return 1
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "produce":
        return produce(argv[2], argv[3], int(argv[4]))
    if len(argv) == 6 and argv[1] == "consume":
        return consume(argv[2], argv[3], argv[4], int(argv[5]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
