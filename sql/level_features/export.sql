-- Features of day D for the level-difficulty model, as Parquet; overwrite = TRUE replaces the day's folder.
EXPORT DATA OPTIONS (
    uri = 'gs://{{ features_bucket }}/level_features/dt={{ ds }}/*.parquet',
    format = 'PARQUET',
    overwrite = TRUE
) AS
{% include 'level_features/query.sql' %}
