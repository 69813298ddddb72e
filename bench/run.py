"""The benchmark: one command, every figure from the same run (see bench/README.md).

    .venv/bin/python bench/run.py [--quick] [--only large,raw,small,hol,naive,generator]
                                  [--profile] [--keep] [--out PATH]

Starts the real ``ecb-files serve`` (embedded default, fresh data dir, fixtures loaded,
token by client_secret_basic) and the two naive baselines (without and with fsync),
measures, prints one table with the issue's targets judged PASS/FAIL, and writes the
results JSON to bench/results/. Small submissions are driven by wrk when it is installed
(``loadgen.py`` otherwise); each row says which generator measured it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import profiling
from bodies import MIB, Body, small_body, write_body, write_multipart_body
from measure import (
    closed_loop,
    fsync_limit,
    generator_ceiling,
    head_of_line,
    large_run,
    raw_run,
    submit_spec,
    summarise_large,
    trivial_spec,
    wrk_installed,
    wrk_load,
    wrk_rate,
)
from procfs import machine_times
from report import QUIET_MACHINE_PCT, judge, table
from servers import (
    HOST,
    LIMITS_PATH,
    REPO_DIR,
    SUBMIT_PATH,
    WHOAMI_PATH,
    NaiveFsyncServer,
    NaiveServer,
    ProductServer,
    _Server,
    answers,
)
from upload import upload

SECTIONS = ("large", "raw", "small", "hol", "naive", "generator")
RESULTS_DIR = Path(__file__).resolve().parent / "results"
SMALL_FILE_BYTES = 10 * 1024
CONCURRENCIES = (16, 64)
PROBE_PAUSE_SECONDS = 0.005
PROFILED_LARGE_REQUESTS = 3
# Rows of the large section for the binary form (§10.1) and its raw limit.
BINARY = "ecb-files multipart"
RAW_NO_DECODE = "raw (no decode)"


@dataclass(frozen=True)
class Plan:
    """How long and how often each measurement runs."""

    large_reps: int
    naive_large_reps: int
    warmup: float
    small_seconds: float
    trivial_seconds: float
    hol_idle_seconds: float
    hol_uploads: int
    generator_seconds: float
    # Rounds of the one-process small comparison, each server's run in turn (see
    # ``small_paired``).
    paired_rounds: int

    @classmethod
    def full(cls) -> Plan:
        return cls(5, 3, 2.0, 10.0, 5.0, 5.0, 5, 5.0, 5)

    @classmethod
    def quick(cls) -> Plan:
        return cls(2, 1, 0.5, 2.0, 1.5, 2.0, 2, 1.5, 1)


@dataclass
class Bench:
    plan: Plan
    sections: frozenset[str]
    root: Path
    profile: bool
    stamp: str
    results: dict[str, Any]
    failures: list[str]
    bodies: dict[str, Body]
    small_file: Path
    warmup_body: Body
    # The binary multipart form of §10.1 (large 3 × 100 MiB), beside the base64 bodies.
    binary_bodies: dict[str, Body] = field(default_factory=dict)

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    @contextlib.contextmanager
    def running(self, server: _Server) -> Iterator[_Server]:
        self.log(f"starting {server.label}")
        started = False
        try:
            server.start()
            started = True
            answer = upload(HOST, server.port, SUBMIT_PATH, server.token, self.warmup_body)
            if answer.problem:
                self.failures.append(f"{server.label} warm-up: {answer.problem}")
            yield server
        finally:
            died = started and not server.alive()
            code = server.stop()  # also when it failed to start: it may still be running
            problems = server.log_problems()
            if died:
                self.failures.append(f"{server.label} died during the run (exit {code})")
            if problems:
                self.failures.append(f"{server.label} logged {len(problems)} error lines")
                self.results.setdefault("server_problems", {})[server.label] = problems[:50]

    # -- sections --------------------------------------------------------------------

    def product_one_worker(self) -> None:
        with self.running(ProductServer(self.root / "ecb-files-w1", 1)) as server:
            if "large" in self.sections:
                self.large(server, "ecb-files", interleave_raw="raw" in self.sections)
            if "raw" in self.sections:
                self.trivial(server, "w1", with_wrk=True)
            if "small" in self.sections and "naive" in self.sections:
                self.small_paired(server)
            elif "small" in self.sections:
                self.small(server, "ecb-files", 1)
            if "hol" in self.sections:
                self.hol(server)
            if self.profile:
                self.profiles(server)

    def product_two_workers(self) -> None:
        with self.running(ProductServer(self.root / "ecb-files-w2", 2)) as server:
            if "small" in self.sections:
                self.small(server, "ecb-files", 2)
            if "raw" in self.sections:
                self.trivial(server, "w2", with_wrk=False)

    def naive(self) -> None:
        with self.running(NaiveServer(self.root / "naive-w1", 1)) as server:
            self.large(server, "naive", interleave_raw=False)
            self.small(server, "naive", 1)
        with self.running(NaiveServer(self.root / "naive-w2", 2)) as server:
            self.small(server, "naive", 2)
        with self.running(NaiveFsyncServer(self.root / "naive-fsync-w1", 1)) as server:
            self.results["meta"]["naive_fsync_sqlite"] = server.init_output
            self.large(server, "naive-fsync", interleave_raw=False)
            if "small" not in self.sections:  # else measured beside ecb-files: small_paired
                self.small(server, "naive-fsync", 1)
        with self.running(NaiveFsyncServer(self.root / "naive-fsync-w2", 2)) as server:
            self.small(server, "naive-fsync", 2)

    def large(self, server: _Server, who: str, interleave_raw: bool) -> None:
        reps = self.plan.naive_large_reps if who.startswith("naive") else self.plan.large_reps
        self.large_runs(server, who, "raw", self.bodies, reps, interleave_raw)
        if who == "ecb-files":
            # The binary form: the same bytes raw in multipart parts, against the raw
            # limit of the work left without base64 (hash + write + fsync).
            self.large_runs(server, BINARY, RAW_NO_DECODE, self.binary_bodies, reps, interleave_raw)

    def large_runs(
        self,
        server: _Server,
        who: str,
        raw_who: str,
        bodies: dict[str, Body],
        reps: int,
        interleave_raw: bool,
    ) -> None:
        for size, body in bodies.items():
            runs: list[dict[str, Any]] = []
            raws: list[dict[str, Any]] = []
            for rep in range(reps):
                if interleave_raw:
                    raws.append(raw_run(body, self.root / "raw"))
                self.log(f"{server.label}: large {size} MiB ({who}), run {rep + 1}")
                run = large_run(server.port, server.token, server.pid, body)
                if run["problem"]:
                    self.failures.append(f"{server.label} large {size} ({who}): {run['problem']}")
                runs.append(run)
            self.results["large"].setdefault(who, {})[size] = summarise_large(runs)
            if raws:
                self.results["large"].setdefault(raw_who, {})[size] = summarise_large(raws)

    def raw_alone(self) -> None:
        for who, bodies in (("raw", self.bodies), (RAW_NO_DECODE, self.binary_bodies)):
            for size, body in bodies.items():
                self.log(f"{who} limit {size} MiB")
                runs = [raw_run(body, self.root / "raw") for _ in range(self.plan.large_reps)]
                self.results["large"].setdefault(who, {})[size] = summarise_large(runs)

    def trivial(self, server: _Server, name: str, with_wrk: bool) -> None:
        """The framework's limit: a public trivial GET, and one that checks the token."""
        for label, path in (("GET /limits", LIMITS_PATH), ("GET /whoami", WHOAMI_PATH)):
            if not answers(f"{server.url}{path}", server.token):
                self.results["meta"][f"skipped {label}"] = "the server does not answer it"
                continue
            self.log(f"{server.label}: {label}")
            spec = trivial_spec(
                server.port, server.token, self.plan.warmup, self.plan.trivial_seconds, path
            )
            key = f"{name} {label}"
            stats = closed_loop(spec, self.root, key.replace(" ", "-").replace("/", ""), server.pid)
            self._count_errors(key, stats)
            self.results["trivial"][key] = stats
        if with_wrk:
            checked = wrk_rate(server.port, LIMITS_PATH, server.token, self.plan.trivial_seconds)
            if checked is None:
                self.results["meta"]["wrk"] = "not installed; cross-check skipped"
            else:
                self.results["trivial"][f"{name} GET /limits (wrk)"] = checked
                if checked["non_2xx"]:
                    self.failures.append(f"{name} wrk: {checked['non_2xx']} non-2xx answers")

    def small_paired(self, ours: _Server) -> None:
        """The one-process small comparison, ecb-files against naive-fsync, in rounds.

        A shared machine's speed drifts by a quarter and more from one minute to the
        next, so the two servers' runs alternate (both started, each idle while the
        other is measured; who goes first swaps every round), and the ratios are taken
        round by round: the targets are judged on their median. Each server's row is
        its median-rate round; ``rounds`` keeps every one.
        """
        with self.running(NaiveFsyncServer(self.root / "naive-fsync-w1-small", 1)) as fair:
            self.results["meta"]["naive_fsync_sqlite"] = fair.init_output
            for concurrency in CONCURRENCIES:
                config = f"w1 c{concurrency}"
                rounds: dict[str, list[dict[str, Any]]] = {"ecb-files": [], "naive-fsync": []}
                for number in range(self.plan.paired_rounds):
                    turns = [("ecb-files", ours), ("naive-fsync", fair)]
                    for who, server in turns if number % 2 == 0 else turns[::-1]:
                        self.log(
                            f"{server.label}: small submissions at concurrency {concurrency}, "
                            f"round {number + 1} of {self.plan.paired_rounds}"
                        )
                        stats = self._small_run(server, concurrency, f"{who}-{config}-{number}")
                        self._count_errors(f"{who} small {config} round {number + 1}", stats)
                        rounds[who].append(stats)
                for who, runs in rounds.items():
                    self.results["small"].setdefault(who, {})[config] = _median_round(runs)
                self.results.setdefault("small_paired", {})[config] = {
                    "rate_ratios": _round_ratios(rounds, "rate"),
                    "p99_ratios": _round_ratios(rounds, "p99_ms"),
                }

    def _small_run(self, server: _Server, concurrency: int, name: str) -> dict[str, Any]:
        spec = submit_spec(
            server.port,
            server.token,
            self.small_file,
            concurrency,
            self.plan.warmup,
            self.plan.small_seconds,
        )
        if wrk_installed():
            return wrk_load(spec, server.pid)
        return closed_loop(spec, self.root, name.replace(" ", "-"), server.pid)

    def small(self, server: _Server, who: str, workers: int) -> None:
        for concurrency in CONCURRENCIES:
            config = f"w{workers} c{concurrency}"
            self.log(f"{server.label}: small submissions at concurrency {concurrency}")
            stats = self._small_run(server, concurrency, f"{who}-{config}")
            self._count_errors(f"{who} small {config}", stats)
            self.results["small"].setdefault(who, {})[config] = stats

    def hol(self, server: _Server) -> None:
        self.log(f"{server.label}: head-of-line (small load + 100 MiB uploads)")
        small = submit_spec(
            server.port, server.token, self.small_file, 16, self.plan.warmup, 3600.0
        )
        # A light, paced GET shows the event loop's own delay, apart from the database.
        probe = replace(
            trivial_spec(server.port, server.token, self.plan.warmup, 3600.0),
            concurrency=1,
            pause=PROBE_PAUSE_SECONDS,
        )
        hol = head_of_line(
            {"small": small, "probe": probe},
            server.port,
            server.token,
            self.bodies["1x100"],
            self.plan.hol_idle_seconds,
            self.plan.hol_uploads,
            self.root,
        )
        for load in ("small", "probe"):
            for phase in ("idle", "loaded"):
                self._count_errors(f"head-of-line {load} {phase}", hol[load][phase])
        for upload_run in hol["uploads"]:
            if upload_run["problem"]:
                self.failures.append(f"head-of-line upload: {upload_run['problem']}")
        self.results["hol"] = hol

    def disk(self) -> None:
        self.log("disk: 10 KiB write + fsync")
        self.results["disk"] = {
            f"{threads} threads": fsync_limit(
                self.root / "fsync", threads, self.plan.trivial_seconds, SMALL_FILE_BYTES
            )
            for threads in (1, 16)
        }

    def generator(self) -> None:
        """Each load generator's ceiling against a canned-answer server, beside the
        highest rate it measured and its CPU in the small runs it drove.

        loadgen.py's ceiling is taken with GETs and set against every rate it measured
        (framework limits included); wrk's with the small submission and set against the
        small rates it measured (its one ``GET /limits`` cross-check is left out).
        """
        small = [node for who in self.results["small"].values() for node in who.values()]
        trivial = list(self.results["trivial"].values())

        def summary(generator: str, stub: dict[str, Any], rows: list[dict[str, Any]]) -> Any:
            mine = [node for node in rows if _generator(node).startswith(generator)]
            cpu = [node["client_cpu_pct"] for node in mine if node in small]
            return {
                "stub": stub,
                "ceiling_rate": max(node["rate"] for node in stub.values()),
                "highest_measured_rate": max(node["rate"] for node in mine) if mine else None,
                "max_client_cpu_pct_in_small": max(cpu) if cpu else None,
            }

        self.log("loadgen.py against a canned-answer server")
        stub = generator_ceiling(
            CONCURRENCIES, self.plan.warmup, self.plan.generator_seconds, self.root
        )
        self.results["generator"] = summary("loadgen", stub, small + trivial)
        if wrk_installed():
            self.log("wrk (the small submission) against a canned-answer server")
            stub = generator_ceiling(
                CONCURRENCIES,
                self.plan.warmup,
                self.plan.generator_seconds,
                self.root,
                small_file=self.small_file,
            )
            self.results["generator"]["wrk"] = summary("wrk", stub, small)

    def profiles(self, server: _Server) -> None:
        executable = profiling.py_spy()
        if executable is None:
            self.results["profiles"] = {"skipped": "py-spy is not installed"}
            self.log("py-spy not installed: no profiles (see bench/README.md)")
            return
        out_dir = RESULTS_DIR / "profiles"
        out_dir.mkdir(parents=True, exist_ok=True)
        profiles: dict[str, Any] = {}
        # Each load twice: where wall time goes, then who holds the GIL (profiling.py).
        for view in profiling.VIEWS:
            if "large" in self.sections:
                self.log(f"{server.label}: profiling a large 3x100 MiB request ({view})")
                path = out_dir / f"{self.stamp}-large-3x100-{view}.txt"
                with profiling.Recording(executable, server.pid, path, view=view):
                    runs = [
                        large_run(server.port, server.token, server.pid, self.bodies["3x100"])
                        for _ in range(PROFILED_LARGE_REQUESTS)
                    ]
                profiles[f"large 3x100 ({view})"] = {
                    "requests": PROFILED_LARGE_REQUESTS,
                    "mb_per_s_under_profiler": [run["mb_per_s"] for run in runs],
                    "raw_profile": str(path.relative_to(REPO_DIR)),
                    **profiling.summarise(path),
                }
            if "small" in self.sections:
                self.log(f"{server.label}: profiling the small load at concurrency 64 ({view})")
                path = out_dir / f"{self.stamp}-small-w1-c64-{view}.txt"
                spec = submit_spec(
                    server.port,
                    server.token,
                    self.small_file,
                    64,
                    self.plan.warmup,
                    self.plan.small_seconds,
                )
                with profiling.Recording(executable, server.pid, path, view=view):
                    stats = closed_loop(spec, self.root, "profiled-small")
                profiles[f"small w1 c64 ({view})"] = {
                    "rate_under_profiler": stats["rate"],
                    "raw_profile": str(path.relative_to(REPO_DIR)),
                    **profiling.summarise(path),
                }
        self.results["profiles"] = profiles

    def _count_errors(self, name: str, stats: dict[str, Any]) -> None:
        if stats["errors"]:
            self.failures.append(f"{name}: non-200 answers {stats['errors']}")
        if stats["connection_errors"] or stats["stuck_connections"]:
            self.failures.append(
                f"{name}: {stats['connection_errors']} connection errors, "
                f"{stats['stuck_connections']} connections stuck"
            )

    # -- the whole run ---------------------------------------------------------------

    def run(self) -> None:
        """Every selected part; one that fails is recorded and the others still run."""
        parts = [
            (self.sections & {"large", "small", "hol", "raw"}, self.product_one_worker),
            (self.sections & {"small", "raw"}, self.product_two_workers),
            (self.sections & {"naive"}, self.naive),
            (
                self.sections & {"raw"} - {"large"} if "large" not in self.sections else set(),
                self.raw_alone,
            ),
            (self.sections & {"raw"}, self.disk),
            (self.sections & {"generator"}, self.generator),
        ]
        for wanted, part in parts:
            if not wanted:
                continue
            try:
                part()
            except Exception as error:
                self.log(f"{part.__name__} failed: {traceback.format_exc()}")
                self.failures.append(f"{part.__name__} failed: {error}")


def _median_round(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The round of median rate (the lower middle one of an even count), with every
    round's rate and p99 under ``rounds``."""
    ordered = sorted(runs, key=lambda run: float(run.get("rate", 0.0)))
    median = dict(ordered[(len(ordered) - 1) // 2])
    median["rounds"] = [{"rate": run.get("rate"), "p99_ms": run.get("p99_ms")} for run in runs]
    return median


def _round_ratios(rounds: dict[str, list[dict[str, Any]]], figure: str) -> list[float | None]:
    """ecb-files' ``figure`` over naive-fsync's, round by round."""
    ratios: list[float | None] = []
    for ours, fair in zip(rounds["ecb-files"], rounds["naive-fsync"], strict=True):
        top, bottom = ours.get(figure), fair.get(figure)
        ratios.append(top / bottom if top is not None and bottom else None)
    return ratios


def _generator(node: dict[str, Any]) -> str:
    """Which load generator measured a row (rows without the field predate wrk)."""
    return str(node.get("generator") or node.get("tool") or "loadgen.py")


def _meta(plan: Plan, args: argparse.Namespace, sections: frozenset[str]) -> dict[str, Any]:
    def git(*command: str) -> str:
        done = subprocess.run(
            ["git", "-C", str(REPO_DIR), *command], capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "sections": sorted(sections),
        "plan": asdict(plan),
        "git_commit": git("rev-parse", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--", "src")),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": shutil.which("wrk") or "not installed",
        "small_generator": "wrk -t1 (wrk_post.lua)" if shutil.which("wrk") else "loadgen.py",
        "units": "MB/s = 10^6 decoded file bytes per second; MiB = 2^20 bytes",
    }


def _show(path: Path) -> int:
    results: dict[str, Any] = json.loads(path.read_text())
    verdicts = judge(results)
    print(table(results, verdicts))
    for title, summary in results.get("profiles", {}).items():
        if isinstance(summary, dict) and "samples" in summary:
            print("\n" + profiling.render(f"PROFILE {title}", summary))
    return 0


def _machine_busy_pct(seconds: float = 1.0) -> float:
    """CPU the machine spends while this benchmark does nothing, in % of one core."""
    before = machine_times()
    time.sleep(seconds)
    spent = machine_times().minus(before)
    return 100 * (spent.busy + spent.steal) / seconds


def _results_path(args: argparse.Namespace, stamp: str) -> Path:
    if args.out:
        return Path(args.out)
    suffix = "".join(
        [
            "-quick" if args.quick else "",
            "-partial" if args.only else "",
            "-profiled" if args.profile else "",
        ]
    )
    return RESULTS_DIR / f"{stamp}{suffix}.json"


def _parse_sections(only: str | None) -> frozenset[str]:
    if not only:
        return frozenset(SECTIONS)
    chosen = frozenset(part.strip() for part in only.split(",") if part.strip())
    unknown = chosen - set(SECTIONS)
    if unknown:
        raise SystemExit(f"--only: unknown section(s) {sorted(unknown)}; known: {SECTIONS}")
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, under 2 minutes")
    parser.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also record py-spy profiles of the large and small loads",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--out", help="results JSON path (default bench/results/DATE.json)")
    parser.add_argument("--tmp", help="parent of the temporary directory (default: $TMPDIR)")
    parser.add_argument(
        "--show", metavar="RESULTS_JSON", help="judge and print a results file; measure nothing"
    )
    args = parser.parse_args(argv)
    if args.show:
        return _show(Path(args.show))
    sections = _parse_sections(args.only)
    plan = Plan.quick() if args.quick else Plan.full()
    stamp = dt.date.today().isoformat()
    began = time.monotonic()
    busy = _machine_busy_pct()
    if busy > QUIET_MACHINE_PCT:
        print(
            f"warning: the machine is busy before the start ({busy:.0f} % of a core used by "
            "other processes); figures will be disturbed",
            file=sys.stderr,
        )
    root = Path(tempfile.mkdtemp(prefix="ecb-bench-", dir=args.tmp))
    results: dict[str, Any] = {
        "meta": {**_meta(plan, args, sections), "busy_before_start_pct": busy},
        "large": {},
        "trivial": {},
        "small": {},
    }
    bench = Bench(
        plan,
        sections,
        root,
        args.profile,
        stamp,
        results,
        [],
        {},
        root / "small.json",
        write_body(root / "warmup.json", [SMALL_FILE_BYTES]),
    )
    try:
        small, _ = small_body(SMALL_FILE_BYTES)
        bench.small_file.write_bytes(small)
        if sections & {"large", "raw", "hol", "naive"}:
            bench.log("writing the large bodies (random data, base64 JSON)")
            bench.bodies["1x100"] = write_body(root / "body-1x100.json", [100 * MIB])
            bench.bodies["3x100"] = write_body(root / "body-3x100.json", [100 * MIB] * 3)
        if sections & {"large", "raw"}:
            bench.log("writing the binary body (random data, multipart/form-data)")
            bench.binary_bodies["3x100"] = write_multipart_body(
                root / "body-3x100.multipart", [100 * MIB] * 3
            )
        bench.run()
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    results["failures"] = bench.failures
    verdicts = judge(results)
    results["targets"] = [verdict.as_dict() for verdict in verdicts]
    results["meta"]["wall_seconds"] = time.monotonic() - began
    out = _results_path(args, stamp)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=str))
    _show(out)
    print(f"\nwall time {results['meta']['wall_seconds']:.0f} s; results in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
