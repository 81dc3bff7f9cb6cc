{#- Day D of `events` de-duplicated on event_id, once per run of the daily DAG (its sensor wait_for_events, once D is
    complete, before any table reads D). The ingestion appends each Kafka message once (offsets), so an event_id sent in two messages
    (a client retry, a producer re-send) is two rows until this DELETE removes every copy of D but the first: a copy
    on an earlier day within the de-duplication scope (event_max_age) wins, else the copy stored first (ingestion
    time, then Kafka topic, partition, offset). It deletes only the losers, so rows appended while it runs are kept
    (the next run of D looks at them), and running it again deletes nothing more. Reads the event_id, event_date and
    lineage columns of D and of the event_max_age days before it: a bound that follows the day, not the history. -#}
DELETE FROM `{{ project }}.{{ dataset }}.events` AS T
WHERE
    T.event_date = DATE '{{ ds }}'
    AND EXISTS (
        SELECT 1
        FROM `{{ project }}.{{ dataset }}.events` AS S
        WHERE
            S.event_date BETWEEN DATE_SUB(DATE '{{ ds }}', INTERVAL {{ event_max_age }}) AND DATE '{{ ds }}'
            AND S.event_id = T.event_id
            AND (
                S.event_date < T.event_date
                OR S.ingested_at < T.ingested_at
                OR (
                    S.ingested_at = T.ingested_at
                    AND (
                        S.kafka_topic < T.kafka_topic
                        OR (S.kafka_topic = T.kafka_topic AND S.kafka_partition < T.kafka_partition)
                        OR (
                            S.kafka_topic = T.kafka_topic
                            AND S.kafka_partition = T.kafka_partition
                            AND S.kafka_offset < T.kafka_offset
                        )
                    )
                )
            )
    )
