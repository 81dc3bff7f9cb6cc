-- One row when day ds's partition of `events` holds rows (a metadata read, no scan): the completeness sensor's
-- first condition (daily/completeness.py).
SELECT partition_id
FROM `{{ project }}.{{ dataset }}.INFORMATION_SCHEMA.PARTITIONS`
WHERE table_name = 'events' AND partition_id = {{ ds | replace("-", "") | sql_string }} AND total_rows > 0
