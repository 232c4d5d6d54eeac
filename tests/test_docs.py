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
