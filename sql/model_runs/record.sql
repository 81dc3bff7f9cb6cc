{#- One training's model_runs row and, when it was promoted, its level_predictions (ml/registry.py), in one
    transaction: the row of model_id (one per try of the training task) and its predictions are replaced, so
    recording the same try again never duplicates, and a promoted row never lacks its predictions. Every DELETE is
    bounded to the training_date partition. Values arrive as SQL literals (health/records.py: sql_literal), in
    the tables' column order. A Jinja comment, not SQL (tests/health/test_emulator_quirks.py).
-- sqlfluff:indentation:template_blocks_indent:False
-#}
{% from '_macros/rows.sql' import literal_rows -%}
BEGIN TRANSACTION;

DELETE FROM `{{ project }}.{{ dataset }}.level_predictions`
WHERE
    training_date = DATE {{ training_date | sql_string }}
    AND model_id = {{ model_id | sql_string }};

{% if predictions -%}
INSERT INTO `{{ project }}.{{ dataset }}.level_predictions` (
    {%- for column in predictions[0] %}
    `{{ column }}`{{ "," if not loop.last }}
    {%- endfor %}
)
SELECT * FROM (
    {{- literal_rows(predictions) }}
);
{% endif %}
DELETE FROM `{{ project }}.{{ dataset }}.model_runs`
WHERE
    training_date = DATE {{ training_date | sql_string }}
    AND model_id = {{ model_id | sql_string }};

INSERT INTO `{{ project }}.{{ dataset }}.model_runs` (
    {%- for column in rows[0] %}
    `{{ column }}`{{ "," if not loop.last }}
    {%- endfor %}
)
SELECT * FROM (
    {{- literal_rows(rows) }}
);

COMMIT TRANSACTION;
