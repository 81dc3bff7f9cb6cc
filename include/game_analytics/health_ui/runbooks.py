"""The runbooks page: ``docs/runbooks.md`` rendered to HTML, each heading with ``id=<its text>`` so that
``/pipeline-health/runbooks#<rule>`` (the page's and the notifications' links) lands on the rule's section.

The file is found next to the SQL folder (``<sql dir>/../docs/runbooks.md``): in a checkout that is the repository's
docs/, in the image ``GA_SQL_DIR=/opt/airflow/sql`` so the image must put docs/ at /opt/airflow/docs. Raw HTML in
the markdown is not rendered (escaped). No Airflow import.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from markdown_it import MarkdownIt

from game_analytics.config import Settings
from game_analytics.health.rules import Rule
from game_analytics.warehouse.sql_templates import find_sql_dir

STYLE = """
body{margin:0;padding:14px 28px 40px;font:14px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:#1f2328;background:#fff;max-width:980px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;padding-top:8px;border-top:1px solid #d0d7de}
h2:target{background:#fff8c5}
code{background:#f6f8fa;padding:0 3px;border-radius:3px}pre{background:#f6f8fa;padding:8px 10px;overflow:auto}
a{color:#0969da}
"""


def runbooks_file(settings: Settings) -> Path:
    return find_sql_dir(settings).parent / "docs" / "runbooks.md"


def heading_id(text: str) -> str:
    """``## high_kafka_lag`` -> ``high_kafka_lag`` (a rule's name stays as is); other text -> a dashed slug."""
    return re.sub(r"[^\w-]+", "-", text.strip().strip("`")).strip("-")


def _anchor_headings(md: MarkdownIt) -> MarkdownIt:
    def heading_open(renderer, tokens, index, options, env):
        token = tokens[index]
        inline = tokens[index + 1]
        token.attrSet("id", heading_id(inline.content))
        return renderer.renderToken(tokens, index, options, env)

    md.add_render_rule("heading_open", heading_open)
    return md


def render_markdown(text: str) -> str:
    return _anchor_headings(MarkdownIt("commonmark", {"html": False}).enable("table")).render(text)


def render_runbooks(settings: Settings, rules: list[Rule], back_url: str) -> str:
    path = runbooks_file(settings)
    if path.is_file():
        body = render_markdown(path.read_text())
    else:  # still one anchor per rule, so the links of the page and of notifications land somewhere useful
        sections = "".join(
            f'<h2 id="{escape(r.name)}">{escape(r.name)}</h2><p>{escape(r.summary)} ({escape(r.severity)}): '
            f"{escape(r.metric)} &gt; {r.threshold:g}</p>"
            for r in rules
        )
        body = f"<h1>Runbooks</h1><p>The runbook file {escape(str(path))} is missing.</p>{sections}"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pipeline health runbooks</title>'
        f'<style>{STYLE}</style></head><body><p><a href="{escape(back_url)}">&larr; Pipeline health</a></p>'
        f"{body}</body></html>"
    )
