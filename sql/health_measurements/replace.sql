{#- One health run's measurements (health/measure.py: record_measurements), replacing the rows at its instant
    now_ts: a retried run writes its rows once. DELETE then INSERT in one script, not a MERGE: the emulator rewrites
    the whole table for a MERGE (1-2 s with 30 days of history, against 0.4 s). Without a transaction (its cost on
    the emulator) a crash between the two leaves the instant without rows until the retry writes them, never twice.
    Values arrive as SQL literals, in the column order of the table. -#}
DELETE FROM `{{ project }}.{{ dataset }}.health_measurements`
WHERE measured_at = {{ now_ts }};

INSERT INTO `{{ project }}.{{ dataset }}.health_measurements` ({{ rows[0] | join(", ") }})
VALUES
{%- for row in rows %}
    ({{ row.values() | join(", ") }}){{ "," if not loop.last }}
{%- endfor %};
