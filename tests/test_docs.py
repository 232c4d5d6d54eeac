"""The documentation stays true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from cssblog.config import reference_markdown

ROOT = Path(__file__).parent.parent


def test_readme_config_reference_matches_the_code() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(
        r"<!-- config-reference:start -->\n(.*)\n<!-- config-reference:end -->", readme, re.DOTALL
    )
    assert block is not None
    assert block.group(1).strip() == reference_markdown().strip()


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "bash scripts/test.sh" in readme
    assert (ROOT / ".ci/run").read_text().strip().endswith("bash scripts/test.sh")


def test_theme_doc_names_every_bundled_template() -> None:
    doc = (ROOT / "docs/themes.md").read_text()
    templates = ROOT / "cssblog/themes/default/templates"
    for template in templates.glob("*.html"):
        if template.name != "_macros.html":
            assert f"`{template.name}`" in doc, template.name


def test_intake_doc_covers_every_setting_and_the_samples_fit_the_code() -> None:
    from dataclasses import fields

    from cssblog.config import IntakeSection
    from cssblog.intake import MAX_FORM_BYTES

    doc = (ROOT / "docs/intake.md").read_text()
    assert "docs/intake.md" in (ROOT / "README.md").read_text()
    for setting in fields(IntakeSection):
        assert f"{setting.name} = " in doc, setting.name
    unit = (ROOT / "contrib/cssblog-intake.service").read_text()
    assert "ExecStart=/srv/blog/.venv/bin/cssblog intake --site /srv/blog" in unit
    nginx = (ROOT / "contrib/nginx-intake.conf").read_text()
    caddy = (ROOT / "contrib/Caddyfile").read_text()
    assert "client_max_body_size 200k;" in nginx and "max_size 200KB" in caddy
    assert MAX_FORM_BYTES <= 200 * 1024
    assert "proxy_pass http://127.0.0.1:8080;" in nginx and "reverse_proxy 127.0.0.1:8080" in caddy
