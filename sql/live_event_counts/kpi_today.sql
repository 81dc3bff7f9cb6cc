{#- Today's live counts per 5-minute window up to last_window (today's partition only), summed over the rows the
    ingestion batches added: the "Game KPIs" page's today so far (kpi_ui/snapshot.py).
    Sample values for sqlfluff (kpi_ui/snapshot.py passes the real ones): -#}
-- sqlfluff:templater:jinja:context:day:2026-01-02
-- sqlfluff:templater:jinja:context:last_window:2026-01-02
SELECT
    window_start,
    COALESCE(SUM(events), 0) AS events,
    COALESCE(SUM(purchases), 0) AS purchases,
    COALESCE(SUM(revenue_usd), 0) AS revenue_usd
FROM `{{ project }}.{{ dataset }}.live_event_counts`
WHERE event_date = DATE({{ day | sql_string }}) AND window_start <= TIMESTAMP({{ last_window | sql_string }})
GROUP BY window_start
ORDER BY window_start
