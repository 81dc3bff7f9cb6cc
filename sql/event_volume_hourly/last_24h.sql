{#- Events per hour and event group for the health page's 24 h chart (health/snapshot.py): the 24 whole hours
    before now plus the current one, first_hour to last_hour (their partitions only).
    Sample values for sqlfluff (health/snapshot.py passes the real ones): -#}
-- sqlfluff:templater:jinja:context:first_hour:2026-01-01
-- sqlfluff:templater:jinja:context:last_hour:2026-01-02
SELECT
    `hour`,
    event_group,
    events
FROM `{{ project }}.{{ dataset }}.event_volume_hourly`
WHERE `hour` BETWEEN TIMESTAMP({{ first_hour | sql_string }}) AND TIMESTAMP({{ last_hour | sql_string }})
ORDER BY `hour`, event_group
