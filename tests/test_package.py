"""Packaging: the public API, and a wheel that carries the bundled theme."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import cssblog

ROOT = Path(__file__).parent.parent


def test_exported_members() -> None:
    for name in cssblog.__all__:
        assert hasattr(cssblog, name), name
    assert sorted(cssblog.__all__) == sorted(
        [
            "BuildReport",
            "ContentErrors",
            "CssblogError",
            "SiteConfig",
            "__version__",
            "build_site",
            "load_config",
        ]
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir"]
    subprocess.run([*command, str(outdir), str(ROOT)], check=True, capture_output=True)
    (built,) = outdir.glob("cssblog-*.whl")
    return built


def test_wheel_ships_the_default_theme_and_init_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    theme = ROOT / "cssblog/themes/default"
    expected = {
        f"cssblog/themes/default/{p.relative_to(theme).as_posix()}"
        for p in theme.rglob("*")
        if p.is_file()
    }
    assert expected and expected <= names
    assert {
        "cssblog/themes/default/templates/base.html",
        "cssblog/py.typed",
        "cssblog/data/init/cssblog.toml",
        "cssblog/data/blocked_words.txt",
    } <= names


def test_installed_wheel_inits_and_builds_a_site_without_the_repo(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "installed"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = subprocess.run(
        [sys.executable, "-c", "import cssblog; print(cssblog.__file__)"],
        env=env,
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    )
    assert where.stdout.startswith(str(target))
    for args in (["init", "mysite"], ["build", "--site", "mysite"]):
        done = subprocess.run(
            [sys.executable, "-m", "cssblog", *args],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    assert (work / "mysite/output/theme/style.css").is_file()
    assert "Welcome to your new blog" in (work / "mysite/output/index.html").read_text()
