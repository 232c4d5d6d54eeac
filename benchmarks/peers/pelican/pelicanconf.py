"""Pelican settings for the cssblog benchmark.

benchmarks/run.py copies this folder into its work dir and writes content/posts/*.md converted
from the corpus (Title, Date, Category — the first of the post's categories — and Tags headers).
Relative paths here are resolved against this file's folder by Pelican.
"""

AUTHOR = "Jane Writer"
SITENAME = "Benchmark Blog"
SITEURL = "https://bench.example.org"
SITE_DESCRIPTION = "A generated site for benchmarks."
RELATIVE_URLS = False
PATH = "content"
OUTPUT_PATH = "output"
THEME = "theme"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%d %B %Y"
DELETE_OUTPUT_DIRECTORY = False

# Pelican's content cache, on: "cold" in the benchmark deletes CACHE_PATH first.
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"

# The same Python-Markdown extensions cssblog uses (extra, toc for h2-h4 with permalinks,
# sane_lists), plus Pelican's own meta (its header reader) and codehilite (Pygments, as cssblog
# highlights code blocks with Pygments).
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.codehilite": {"css_class": "highlight"},
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
        "markdown.extensions.toc": {"permalink": "#", "toc_depth": "2-4"},
        "markdown.extensions.sane_lists": {},
    },
    "output_format": "html5",
}

# URLs like cssblog's: /YYYY/MM/post-NNNNN/, /category/slug/, /tag/slug/, /page/N/.
SLUGIFY_SOURCE = "basename"
ARTICLE_URL = "{date:%Y}/{date:%m}/{slug}/"
ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{slug}/index.html"
CATEGORY_URL = "category/{slug}/"
CATEGORY_SAVE_AS = "category/{slug}/index.html"
TAG_URL = "tag/{slug}/"
TAG_SAVE_AS = "tag/{slug}/index.html"
AUTHOR_URL = "author/{slug}/"
AUTHOR_SAVE_AS = "author/{slug}/index.html"
CATEGORIES_SAVE_AS = "category/index.html"
TAGS_SAVE_AS = "tag/index.html"
AUTHORS_SAVE_AS = "author/index.html"
ARCHIVES_SAVE_AS = "archive/index.html"
YEAR_ARCHIVE_URL = "{date:%Y}/"
YEAR_ARCHIVE_SAVE_AS = "{date:%Y}/index.html"
MONTH_ARCHIVE_URL = "{date:%Y}/{date:%m}/"
MONTH_ARCHIVE_SAVE_AS = "{date:%Y}/{date:%m}/index.html"
DIRECT_TEMPLATES = ["index", "categories", "tags", "authors", "archives"]

# Ten posts a page on the home page and on every category, tag and author page.
DEFAULT_PAGINATION = 10
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)

# RSS and Atom for everything, category and tag, 20 newest posts, full content (as cssblog).
FEED_DOMAIN = SITEURL
FEED_MAX_ITEMS = 20
RSS_FEED_SUMMARY_ONLY = False
FEED_ALL_ATOM = "atom.xml"
FEED_ALL_RSS = "feed.xml"
CATEGORY_FEED_ATOM = "category/{slug}/atom.xml"
CATEGORY_FEED_RSS = "category/{slug}/feed.xml"
TAG_FEED_ATOM = "tag/{slug}/atom.xml"
TAG_FEED_RSS = "tag/{slug}/feed.xml"
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None
