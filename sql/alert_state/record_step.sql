{#- One alert evaluation's writes (health/alert_store.py), in one transaction: the changed states and the new
    notifications land together or not at all. Apart, a crash between them would lose a notification (state
    first) or send a second one with a new fired_at (outbox first). A statement with nothing to do is left out.
-- sqlfluff:indentation:template_blocks_indent:False
-#}
BEGIN TRANSACTION;
{% if states -%}
{% include "alert_state/merge.sql" %}
{% endif -%}
{% if notifications -%}
{% include "alert_notifications/insert.sql" %}
{% endif -%}
COMMIT TRANSACTION;
