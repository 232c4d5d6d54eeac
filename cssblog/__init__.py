"""cssblog: a static blog engine for people who write about customer service."""

from __future__ import annotations

__version__ = "0.1.0"

from cssblog.build import BuildReport, build_site
from cssblog.config import SiteConfig, load_config
from cssblog.errors import ContentErrors, CssblogError

__all__ = [
    "BuildReport",
    "ContentErrors",
    "CssblogError",
    "SiteConfig",
    "__version__",
    "build_site",
    "load_config",
]
