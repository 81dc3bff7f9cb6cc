-- One row when the partition of day ds of `table` holds rows (a metadata read, no scan): the first condition of
-- the completeness sensor (daily/completeness.py, table events) and the previous day of the player state
-- (daily/previous_day.py). No apostrophe in these comments: the emulator rewrites INFORMATION_SCHEMA queries with
-- regular expressions, and a quote pair in a comment mangles the timestamps it inlines.
SELECT partition_id
FROM `{{ project }}.{{ dataset }}.INFORMATION_SCHEMA.PARTITIONS`
WHERE
    table_name = {{ table | sql_string }}
    AND partition_id = {{ ds | replace("-", "") | sql_string }}
    AND total_rows > 0
