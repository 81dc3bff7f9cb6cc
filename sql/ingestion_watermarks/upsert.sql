{#- One MERGE for the watermarks of all partitions a run (or shard) saw (warehouse/watermarks.py), bounded to those
    partitions; a watermark never moves backwards. A timestamp the run does not know (no event read yet) is NULL. -#}
{% macro timestamp_or_null(value) %}{% if value is none %}NULL{% else %}TIMESTAMP {{ value | sql_string }}{% endif %}{% endmacro -%}
MERGE `{{ project }}.{{ dataset }}.ingestion_watermarks` AS t
USING (
    {%- for mark in watermarks %}
        SELECT
            {{ mark.topic | sql_string }} AS topic,
            {{ mark.partition }} AS `partition`,
            {{ timestamp_or_null(mark.caught_up_at) }} AS caught_up_at,
            {{ timestamp_or_null(mark.max_event_timestamp) }} AS max_event_timestamp,
            {{ "NULL" if mark.committed_offset is none else mark.committed_offset }} AS committed_offset
        {%- if not loop.last %}
            UNION ALL
        {%- endif %}
    {%- endfor %}
) AS s
    ON
        t.topic = s.topic
        AND t.`partition` = s.`partition`
        AND t.`partition` IN ({{ watermarks | map(attribute="partition") | join(", ") }})
WHEN MATCHED THEN
    UPDATE SET
        caught_up_at = GREATEST(COALESCE(t.caught_up_at, s.caught_up_at), s.caught_up_at),
        max_event_timestamp = GREATEST(
            COALESCE(t.max_event_timestamp, s.max_event_timestamp),
            COALESCE(s.max_event_timestamp, t.max_event_timestamp)
        ),
        committed_offset = GREATEST(
            COALESCE(t.committed_offset, s.committed_offset), COALESCE(s.committed_offset, -1)
        ),
        updated_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN
    INSERT (topic, `partition`, caught_up_at, max_event_timestamp, committed_offset, updated_at)
    VALUES (s.topic, s.`partition`, s.caught_up_at, s.max_event_timestamp, s.committed_offset, CURRENT_TIMESTAMP())
