"""Write a deterministic benchmark site: N posts, K comments each.

    python benchmarks/corpus.py /tmp/bench --posts 5000 --comments 3

Posts are 300 to 1,500 words with headings, lists, links, code and quotes; 12 categories
(Customer Service on about 40 % of posts), 60 tags; comments include reply threads and
duplicates. The same arguments always give the same bytes.
"""

from __future__ import annotations

import argparse
import random
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

CATEGORIES = [
    "Customer Service", "Support Operations", "Writing", "Tools", "Leadership", "Hiring",
    "Metrics", "Self-Service", "Onboarding", "Escalation", "Quality", "Community",
]  # fmt: skip
TAGS = [f"topic-{i:02d}" for i in range(60)]
WORDS = (  # noqa: SIM905 (a word list reads better as prose)
    "customer reply ticket queue team answer question apology refund promise follow "
    "support agent escalate context empathy clear plain kind prompt honest owner "
    "update status policy exception macro knowledge article search help product bug "
    "feature release incident outage weekend shift handoff note review metric median "
    "response resolution satisfaction survey comment thread reader writer service"
).split()
CONFIG = """\
[site]
title = "Benchmark Blog"
url = "https://bench.example.org"
description = "A generated site for benchmarks."
author = "Jane Writer"
timezone = "UTC"
posts_per_page = 10

[customer_service]
category = "Customer Service"
description = "Posts about service."

[[authors]]
name = "Jane Writer"
email = "jane@example.org"
bio = "Writes the benchmark."

[comments]
moderation = "first-time"
"""


def sentence(rng: random.Random, low: int = 8, high: int = 20) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def body(rng: random.Random, index: int, total: int) -> str:
    target = rng.randint(300, 1500)
    parts: list[str] = []
    words = 0
    section = 0
    while words < target:
        kind = rng.random()
        if kind < 0.12:
            section += 1
            parts.append(f"## Section {section}: {sentence(rng, 2, 5)[:-1]}")
        elif kind < 0.22:
            parts.append("\n".join(f"- {sentence(rng, 4, 9)}" for _ in range(rng.randint(3, 6))))
        elif kind < 0.28:
            parts.append("```python\ndef reply(ticket):\n    return ticket.owner.answer()\n```")
        elif kind < 0.34:
            parts.append("> " + sentence(rng))
        elif kind < 0.40:
            other = rng.randrange(total)
            parts.append(f"See [an earlier post](post-{other:05d}.md) and "
                         f"[a guide](https://docs.example.org/{index}).")
        else:
            parts.append(paragraph(rng))
        words += len(parts[-1].split())
    return "\n\n".join(parts) + "\n"


def post_file(rng: random.Random, index: int, total: int, start: datetime) -> str:
    date = start + timedelta(hours=7 * index)
    categories = ["Customer Service"] if rng.random() < 0.4 else []
    categories += rng.sample(CATEGORIES[1:], rng.randint(0, 2)) if categories else [
        rng.choice(CATEGORIES[1:])]
    tags = rng.sample(TAGS, rng.randint(1, 4))
    title = sentence(rng, 3, 7)[:-1].replace('"', "")
    return (f'---\ntitle: "{title} {index}"\ndate: {date:%Y-%m-%d %H:%M}\n'
            f"categories: [{', '.join(repr(c) for c in categories)}]\n"
            f"tags: [{', '.join(tags)}]\n---\n{body(rng, index, total)}")


def comment_files(rng: random.Random, index: int, count: int, date: datetime) -> dict[str, str]:
    files: dict[str, str] = {}
    ids: list[str] = []
    for n in range(count):
        cid = f"c{index:05d}-{n:02d}"
        reader = f"Reader {rng.randrange(400)}"
        parent = f"parent: {rng.choice(ids)}\n" if ids and rng.random() < 0.35 else ""
        text = sentence(rng, 10, 40)
        if n and rng.random() < 0.08:  # a duplicate of the previous comment
            files[cid] = files[ids[-1]].replace(f"{ids[-1]}", cid)
        else:
            when = date + timedelta(hours=n + 1)
            mailbox = zlib.crc32(reader.encode()) % 997  # not hash(): salted per process
            files[cid] = (f"---\nauthor: {reader}\nemail: r{mailbox}@example.com\n"
                          f"date: {when:%Y-%m-%d %H:%M}\n{parent}status: approved\n---\n{text}\n")
        ids.append(cid)
    return files


def write_corpus(root: Path, posts: int, comments: int, seed: int = 1) -> None:
    """Write the site; an existing folder is refused."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    (root / "cssblog.toml").write_text(CONFIG)
    post_dir = root / "content" / "posts"
    post_dir.mkdir(parents=True)
    start = datetime(2020, 1, 1, 8, 0, tzinfo=UTC)
    for index in range(posts):
        (post_dir / f"post-{index:05d}.md").write_text(post_file(rng, index, posts, start))
        folder = root / "content" / "comments" / f"post-{index:05d}"
        items = comment_files(rng, index, comments, start + timedelta(hours=7 * index))
        if items:
            folder.mkdir(parents=True)
            for cid, text in items.items():
                (folder / f"{cid}.md").write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write_corpus(args.root, args.posts, args.comments, args.seed)


if __name__ == "__main__":
    main()
