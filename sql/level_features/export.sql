{#- Features of day D for the level-difficulty model, as Parquet; overwrite = TRUE replaces the day's folder.
    A Jinja comment, not SQL: the emulator rejects EXPORT DATA that starts with a `--` comment. -#}
EXPORT DATA OPTIONS (
    uri = 'gs://{{ features_bucket }}/level_features/dt={{ ds }}/*.parquet',
    format = 'PARQUET',
    overwrite = TRUE
) AS
{% include 'level_features/query.sql' %}
