{#- The ingestion's MERGE of one batch into `events` (ingest/loader.py; run by sql/ingest_batch.sql): the batch's
    rows from the run's staging table, each unless its event_id is already stored within the de-duplication scope,
    the batch's dates widened by max_age on each side (also the partition filter `events` requires). The staging
    table holds `parameters` as JSON text (the batch's Parquet file). -#}
MERGE `{{ project }}.{{ dataset }}.events` AS T
USING (
    SELECT
    {%- for column in event_columns %}
        {%- if column == "parameters" %}
                PARSE_JSON(parameters, wide_number_mode => 'round') AS parameters{{ "," if not loop.last }}
        {%- else %}
                `{{ column }}`{{ "," if not loop.last }}
        {%- endif %}
    {%- endfor %}
    FROM `{{ staging_events }}`
    WHERE event_date IN (
        {%- for day in event_dates %}
            DATE {{ day | sql_string }}{{ "," if not loop.last }}
        {%- endfor %}
    )
) AS S
    ON
        T.event_id = S.event_id
        AND T.event_date BETWEEN DATE_SUB(DATE {{ event_dates | min | sql_string }}, INTERVAL {{ max_age }})
        AND DATE_ADD(DATE {{ event_dates | max | sql_string }}, INTERVAL {{ max_age }})
WHEN NOT MATCHED THEN
    INSERT (
        {%- for column in event_columns %}
            `{{ column }}`{{ "," if not loop.last }}
        {%- endfor %}
    ) VALUES (
        {%- for column in event_columns %}
            S.`{{ column }}`{{ "," if not loop.last }}
        {%- endfor %}
    );
