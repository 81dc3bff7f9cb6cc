{#- The current model as of training day `ds`: the latest promoted model_runs row (by training_date, then
    trained_at) of the horizon_days up to `ds`, other than `model_id` (the training being decided, whose earlier
    recording a retry replaces). A backfilled Sunday compares with the model that was current on that day, not a
    later one. Bounded to the partitions of those days (ml/registry.py says why the horizon). -#}
SELECT
    model_id,
    training_date,
    model_uri,
    registry_version,
    mae,
    held_out_days
FROM `{{ project }}.{{ dataset }}.model_runs`
WHERE
    training_date BETWEEN DATE_SUB(DATE {{ ds | sql_string }}, INTERVAL {{ horizon_days }} DAY)
    AND DATE {{ ds | sql_string }}
    AND promoted
    AND model_id != {{ model_id | sql_string }}
ORDER BY training_date DESC, trained_at DESC
LIMIT 1
