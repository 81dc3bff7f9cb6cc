"""The Jinja filters of the SQL templates, for sqlfluff (``library_path`` in .sqlfluff).

Not a table folder. sqlfluff renders the templates itself, so it must know the filters that
``game_analytics.warehouse.sql_templates.render_sql`` registers (``{{ topic | sql_string }}``); they are taken from
there, so the linted SQL is quoted exactly as the SQL that runs.
"""

from game_analytics.warehouse.sql_templates import SQL_FILTERS

SQLFLUFF_JINJA_FILTERS = SQL_FILTERS
