"""Whole-pipeline scenario suite: the command line on data sets that stress one thing at a time.

What it is for: every scenario is a small raw data set written by the independent generator of
``tests/scenarios/generator.py`` (never the project's simulator). The pipeline is exercised only
through its command line, in subprocesses,

    python -m causal run --data D --results R --processed P --seed 1 --jobs 1
    python -m causal report --results R --out O

so the suite does not depend on the package layout. The tests encode the behaviour the pipeline
must have on any input a user could plausibly bring:

- ``run`` exits 0 and writes effects.csv and run_info.json, or (only for genuinely invalid input)
  exits 2 with ONE line on stderr naming file / line / column; never a Python traceback;
- run_info.json has a per-stage status record ``stages``:
  ``{stage: {"status": "ok"|"degraded"|"failed"|"skipped", "reasons": [...]}}``;
- ``report`` exits 0, and the memo never carries a recommendation (a claim of claims.json) whose
  licensing output run_info marks not ok, or whose stage failed or was skipped;
- an extra column is accepted and noted in data_quality.json; N/A money cells and orphan
  integration rows are quarantined row by row;
- where an effect is planted, the adjusted estimate has its sign (no effect: the interval covers 0);
- two runs started at once on different results folders, with the default --processed, one of
  them on two workers, write the same results files as a run alone (timings and folders apart).

Each scenario's data, run and report are made once per session (session fixtures) and shared by
the tests that look at them. Run it with::

    .venv/bin/python -m pytest tests/scenarios -m slow -v
"""
from __future__ import annotations

import csv
import html.parser
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from tests.scenarios import generator as gen
from tests.scenarios.generator import DEFAULT_MONTHS, ScenarioSpec

REPO = Path(__file__).resolve().parents[2]
SEED = "1"
RUN_TIMEOUT = 3600  # seconds; a guard against a hung run on a loaded machine, not a target
STATUSES = {"ok", "degraded", "failed", "skipped"}
INPUT_ERROR_LINE = re.compile(r"^(error: )?[^,:]+\.csv, line \d+(, column [^:]+)?: .+")

# The memo's recommendations (claim ids of claims.json) and the (stage, output) of run_info.json
# whose result licenses each. A recommendation may stand only when its stage is neither failed nor
# skipped and its output is ok, or, for the main estimates, degraded with rows still present (some
# primary cells not estimable, for example a window too short for the longest horizon).
LICENSES = {
    "push_adoption": ("estimate", "primary_effects"),
    "do_not_push": ("estimate", "primary_effects"),
    "no_clear_effect": ("estimate", "primary_effects"),
    "push_value": ("estimate", "primary_effects"),
    "target_group": ("segments", "targeting"),
    "marketplace_vs_custom": ("segments", "marketplace_vs_custom"),
}
DEGRADED_STILL_LICENSES = {"primary_effects"}


@dataclass(frozen=True)
class Case:
    """One scenario: a spec, format mutations applied after writing, and what is allowed."""

    id: str
    spec: ScenarioSpec
    mutations: tuple[tuple[str, dict], ...] = ()  # (generator function name, keyword arguments)
    invalid_input: bool = False  # True only for genuinely invalid input: exit 2 is then acceptable
    check_effects: bool = False  # compare estimated and planted signs
    notes: dict = field(default_factory=dict, compare=False)


# The realistic base: 1,200 customers, six months, the Jan-2021-like tracking change.
BASE = ScenarioSpec(n_customers=1200, seed=11, tracking_change=True)
CASES = [
    Case("base_1200", BASE, check_effects=True),
    Case("base_2000", replace(BASE, n_customers=2000, seed=12), check_effects=True),
    Case("no_effect", replace(BASE, cancel_effect=0.0, upgrade_effect=0.0, seed=13), check_effects=True),
    Case("opposite_sign", replace(BASE, cancel_effect=0.03, upgrade_effect=-0.025, seed=14), check_effects=True),
    Case("single_segment", replace(BASE, single_segment=True, seed=15)),
    Case("no_custom", replace(BASE, custom_share=0.0, seed=16)),
    Case("no_tracking_change", replace(BASE, tracking_change=False, seed=17)),
    Case("four_months", replace(BASE, months=DEFAULT_MONTHS[:4], seed=18)),
    Case("missing_middle_month", replace(BASE, missing_month=2, seed=19)),
    Case("one_tier", replace(BASE, tier_weights=(0.01, 0.01, 0.01, 0.96, 0.01), seed=20)),
    Case("adoption_fixed_by_tier", replace(BASE, adoption_by_tier_strength=4.0, seed=21)),
    Case("columns_reordered", BASE, (("reorder_columns", {}),)),
    Case("crlf", BASE, (("crlf_line_endings", {}),)),
    Case("na_money_50", BASE, (("na_money_cells", {"k": 50, "seed": 3}),)),
    Case("orphans_20", BASE, (("orphan_integration_rows", {"k": 20, "seed": 4}),)),
    Case("extra_region_note", BASE, (("extra_column", {"name": "REGION_NOTE"}),)),
]
CASE_BY_ID = {case.id: case for case in CASES}
IDS = [case.id for case in CASES]


# --- running the command line --------------------------------------------------------
@dataclass
class Command:
    """A finished command: exit code, output, wall seconds."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Outcome:
    """A scenario's data folder, its run and (when a results folder exists) its report."""

    case: Case
    data: Path
    results: Path
    processed: Path
    reports: Path
    run: Command
    report: Command | None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # a shared 2-core machine
        env.setdefault(name, "1")
    return env


def run_argv(data: Path, results: Path, processed: Path | None, jobs: int = 1) -> list[str]:
    argv = [sys.executable, "-m", "causal", "run", "--data", str(data), "--results", str(results)]
    if processed is not None:
        argv += ["--processed", str(processed)]
    return argv + ["--seed", SEED, "--jobs", str(jobs), "--bootstrap", BOOTSTRAP_DRAWS]


# What may differ between two runs of the same data and seed: where they ran, on how many workers and how
# long they took; and what the report adds to a results folder (the run alone is also reported). Every other
# results file must be the same byte for byte.
VOLATILE_FILES = {"run_info.json", "claims.json"}  # stage timings and folders; the report's claims
VOLATILE_KEYS = {"estimation_config.json": {"processed_dir", "jobs"},
                 "heterogeneity_summary.json": {"seconds", "timings"}}


def results_contents(results: Path) -> dict[str, object]:
    """Every results file by relative path (the processed model and panel apart), volatile keys dropped."""
    contents = {}
    for path in sorted(results.rglob("*")):
        relative = path.relative_to(results)
        if not path.is_file() or relative.parts[0] == "processed" or path.name in VOLATILE_FILES:
            continue
        if path.name in VOLATILE_KEYS:
            data = json.loads(path.read_text())
            contents[str(relative)] = {k: v for k, v in data.items() if k not in VOLATILE_KEYS[path.name]}
        else:
            contents[str(relative)] = path.read_bytes()
    return contents


def report_argv(results: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "causal", "report", "--results", str(results), "--out", str(out)]


BOOTSTRAP_DRAWS = "20"  # the matching interval's customer bootstrap: the suite tests behaviour, not widths
PARALLEL_RUNS = 2  # scenarios run two at a time on the two cores


def execute(argv: list[str], **env: str) -> Command:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, env={**_env(), **env}, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)
    return Command(argv, done.returncode, done.stdout, done.stderr, round(time.perf_counter() - started, 1))


def first_traceback(stderr: str) -> str:
    """``ExceptionType: message @ file:line`` of the first traceback in ``stderr`` (repo frames preferred)."""
    lines = stderr.splitlines()
    if not any(line.startswith("Traceback") for line in lines):
        return ""
    start = next(i for i, line in enumerate(lines) if line.startswith("Traceback"))
    frame, repo_frame, exception = "", "", ""
    for line in lines[start + 1:]:
        match = re.match(r'\s*File "([^"]+)", line (\d+)', line)
        if match:
            frame = f"{match.group(1)}:{match.group(2)}"
            path = Path(match.group(1))
            if str(path).startswith(str(REPO)) and "site-packages" not in str(path):
                repo_frame = f"{path.relative_to(REPO)}:{match.group(2)}"
        elif line and not line.startswith((" ", "\t")):
            exception = line.strip()
            break
    if repo_frame and not frame.startswith(str(REPO / repo_frame.split(":")[0])):
        return f"{exception} @ {repo_frame} (raised in {frame.split('site-packages/')[-1]})"
    return f"{exception} @ {repo_frame or frame}"


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def describe(command: Command) -> str:
    tb = first_traceback(command.stderr)
    return (f"exit {command.returncode} after {command.seconds}s; last stderr line: {last_line(command.stderr)!r}"
            + (f"; first traceback: {tb}" if tb else ""))


# --- fixtures --------------------------------------------------------------------------
_OUTCOMES: dict[str, Outcome] = {}


@pytest.fixture(scope="session")
def scenario_data(tmp_path_factory):
    """Factory ``scenario_data(case_id) -> data folder`` (generated and mutated once per session)."""
    cache: dict[str, Path] = {}

    def make(case_id: str) -> Path:
        if case_id not in cache:
            case = CASE_BY_ID[case_id]
            data = gen.write_scenario(case.spec, tmp_path_factory.mktemp(f"data_{case_id}"))
            for name, kwargs in case.mutations:
                getattr(gen, name)(data, **kwargs)
            cache[case_id] = data
        return cache[case_id]

    return make


@pytest.fixture(scope="session")
def scenario(tmp_path_factory, scenario_data):
    """Factory ``scenario(case_id) -> Outcome``: run (and report) once per session."""

    def one(case_id: str) -> Outcome:
        data = scenario_data(case_id)
        base = tmp_path_factory.mktemp(f"run_{case_id}")
        results, processed, reports = base / "results", base / "processed", base / "reports"
        run = execute(run_argv(data, results, processed))
        # the fallback renderer gives the same text as quarto (tests/causal/report/test_quarto_render.py) in less time
        report = execute(report_argv(results, reports), MEMO_RENDERER="fallback") if results.is_dir() else None
        for name, command in (("run", run), ("report", report)):  # kept for reading after a failure
            if command is not None:
                (base / f"{name}.stderr.txt").write_text(command.stderr)
                (base / f"{name}.stdout.txt").write_text(command.stdout)
        return Outcome(CASE_BY_ID[case_id], data, results, processed, reports, run, report)

    def make(case_id: str) -> Outcome:
        if not _OUTCOMES:  # the first request runs every scenario, two at a time
            from concurrent.futures import ThreadPoolExecutor

            for case_id_ in IDS:
                scenario_data(case_id_)
            with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
                _OUTCOMES.update(zip(IDS, pool.map(one, IDS)))
        return _OUTCOMES[case_id]

    return make


@pytest.fixture(scope="session", autouse=True)
def _summary_file():
    """With ``$SCENARIO_SUMMARY`` set, write what each scenario produced there (JSON) at the end."""
    yield
    target = os.environ.get("SCENARIO_SUMMARY")
    if not target:
        return
    rows = {}
    for case_id, outcome in _OUTCOMES.items():
        rows[case_id] = {
            "run_exit": outcome.run.returncode,
            "run_seconds": outcome.run.seconds,
            "run_last_stderr": last_line(outcome.run.stderr),
            "run_traceback": first_traceback(outcome.run.stderr),
            "effects_csv": (outcome.results / "effects.csv").is_file(),
            "run_info_stages": "stages" in _read_json(outcome.results / "run_info.json"),
            "stages": {stage: record.get("status") for stage, record in
                       _read_json(outcome.results / "run_info.json").get("stages", {}).items()},
            "stage_reasons": {stage: record.get("reasons", []) for stage, record in
                              _read_json(outcome.results / "run_info.json").get("stages", {}).items()
                              if record.get("reasons")},
            "not_ok_outputs": {f"{stage}.{name}": f"{out.get('status')}: {out.get('reason', '')}"
                               for stage, record in _read_json(outcome.results / "run_info.json").get("stages", {}).items()
                               for name, out in (record.get("outputs") or {}).items()
                               if isinstance(out, dict) and out.get("status") != "ok"},
            "report_exit": outcome.report.returncode if outcome.report else None,
            "report_seconds": outcome.report.seconds if outcome.report else None,
            "report_last_stderr": last_line(outcome.report.stderr) if outcome.report else None,
            "report_traceback": first_traceback(outcome.report.stderr) if outcome.report else None,
        }
    Path(target).write_text(json.dumps(rows, indent=2) + "\n")


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _effects(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


class _Text(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def memo_text(reports: Path) -> str:
    """The rendered memo's text (memo.html with tags, scripts and styles removed)."""
    parser = _Text()
    parser.feed((reports / "memo.html").read_text(encoding="utf-8", errors="replace"))
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def _completed(outcome: Outcome) -> None:
    """Skip a test that needs a finished run when the run rightly refused invalid input."""
    if outcome.case.invalid_input and outcome.run.returncode == 2:
        pytest.skip("the input is invalid and run refused it with exit code 2")


# --- the generator itself (fast: no pipeline) ---------------------------------------------------
def test_generator_is_deterministic_and_records_its_truth(tmp_path):
    spec = replace(BASE, n_customers=150)
    first = gen.write_scenario(spec, tmp_path / "a")
    second = gen.write_scenario(spec, tmp_path / "b")
    for name in (gen.SEGMENTS_CSV, gen.METADATA_CSV, gen.INTEGRATIONS_CSV):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    truth = gen.read_truth(first)["truth"]
    assert truth["cancel_effect_sign"] == -1 and truth["upgrade_effect_sign"] == 1
    assert truth["cancel_h1_ate"] < 0 < truth["upgrade_h1_ate"]
    assert truth["tracking_change_after"] == "2020-12"


def test_generator_writes_the_raw_format(tmp_path):
    data = gen.write_scenario(replace(BASE, n_customers=300, missing_month=2), tmp_path)
    rows = {name: list(csv.reader((data / name).open(newline="")))
            for name in (gen.SEGMENTS_CSV, gen.METADATA_CSV, gen.INTEGRATIONS_CSV)}
    assert tuple(rows[gen.SEGMENTS_CSV][0]) == gen.SEGMENTS_HEADER
    assert tuple(rows[gen.METADATA_CSV][0]) == gen.METADATA_HEADER
    assert tuple(rows[gen.INTEGRATIONS_CSV][0]) == gen.INTEGRATIONS_HEADER
    meta = rows[gen.METADATA_CSV][1:]
    assert {r[1] for r in meta} == set(DEFAULT_MONTHS) - {DEFAULT_MONTHS[2]}
    assert all(re.fullmatch(r"H\d{8}", r[0]) for r in meta)
    assert any(len(r[0]) < 9 for r in rows[gen.SEGMENTS_CSV][1:]), "some short IDs, as in the real file"
    assert all(re.fullmatch(r"(-\$[\d,]+\.\d\d|0|)", r[6]) for r in meta)
    assert any(r[6].startswith("-$") for r in meta) and any(r[2] == "Ent" for r in meta)
    counted = {}
    for integration_id, customer, month in rows[gen.INTEGRATIONS_CSV][1:]:
        assert re.fullmatch(r"\d+|(?i:custom)_\d+", integration_id)
        counted[(customer, month[:7])] = counted.get((customer, month[:7]), 0) + 1
    exact = sum(counted.get((r[0], r[1]), 0) == int(r[3]) for r in meta) / len(meta)
    assert exact > 0.9, "NUM_OF_INTEGRATIONS matches the rows for most customer-months"
    no_custom = gen.generate(replace(BASE, n_customers=200, custom_share=0.0, tracking_change=False))
    assert no_custom.truth["custom_integration_rows"] == 0


def test_mutators_change_what_they_say(tmp_path):
    data = gen.write_scenario(replace(BASE, n_customers=120), tmp_path)
    before = (data / gen.METADATA_CSV).read_text()
    gen.na_money_cells(data, k=5, seed=1)
    gen.orphan_integration_rows(data, k=3, seed=1)
    gen.extra_column(data)
    gen.reorder_columns(data)
    gen.crlf_line_endings(data)
    after = (data / gen.METADATA_CSV).read_bytes()
    assert after.count(b"N/A") == 5 and b"\r\n" in after and after.count(b"\n") == before.count("\n")
    header = (data / gen.SEGMENTS_CSV).read_bytes().split(b"\r\n")[0]
    assert header == b"REGION_NOTE,CUSTOMER_SEGMENT,EMPLOYEE_SIZE,CUSTOMER_ID"
    mutations = [m["mutation"] for m in gen.read_truth(data)["mutations"]]
    assert mutations == ["na_money_cells", "orphan_integration_rows", "extra_column", "reorder_columns",
                         "crlf_line_endings"]


def test_generator_is_independent_of_the_project_code():
    source = Path(gen.__file__).read_text()
    assert not re.search(r"^\s*(from|import)\s+(analysis|causal)\b", source, re.MULTILINE)


# --- the contract, per scenario (each test runs the whole pipeline: minutes on a shared 2-core machine)
slow = pytest.mark.slow


@slow
@pytest.mark.parametrize("case_id", IDS)
def test_run_never_shows_a_traceback(scenario, case_id):
    outcome = scenario(case_id)
    assert "Traceback" not in outcome.run.stderr, describe(outcome.run)


@slow
@pytest.mark.parametrize("case_id", IDS)
def test_run_exits_0_with_results_or_2_with_one_line(scenario, case_id):
    outcome = scenario(case_id)
    run = outcome.run
    assert run.returncode in (0, 2), describe(run)
    if run.returncode == 2:
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, f"exit 2 needs ONE line on stderr; got {len(lines)}: {describe(run)}"
        assert INPUT_ERROR_LINE.match(lines[0]), f"the line must name file, line, column: {lines[0]!r}"
        assert outcome.case.invalid_input, f"valid input refused: {lines[0]!r}"
        return
    for name in ("effects.csv", "run_info.json"):
        assert (outcome.results / name).is_file(), f"{name} missing after exit 0"


@slow
@pytest.mark.parametrize("case_id", IDS)
def test_run_info_has_a_status_per_stage(scenario, case_id):
    outcome = scenario(case_id)
    _completed(outcome)
    info = _read_json(outcome.results / "run_info.json")
    assert info, f"run_info.json missing or not a JSON object ({describe(outcome.run)})"
    stages = info.get("stages")
    assert isinstance(stages, dict) and stages, "run_info.json has no per-stage status record 'stages'"
    for name, record in stages.items():
        assert isinstance(record, dict), f"stage {name}: expected an object"
        assert record.get("status") in STATUSES, f"stage {name}: status {record.get('status')!r}"
        reasons = record.get("reasons")
        assert isinstance(reasons, list) and all(isinstance(r, str) for r in reasons), f"stage {name}: reasons"
        if record["status"] != "ok":
            assert reasons, f"stage {name} is {record['status']} without a reason"


@slow
@pytest.mark.parametrize("case_id", IDS)
def test_report_renders(scenario, case_id):
    outcome = scenario(case_id)
    _completed(outcome)
    assert outcome.report is not None, f"run wrote no results folder ({describe(outcome.run)})"
    assert "Traceback" not in outcome.report.stderr, describe(outcome.report)
    assert outcome.report.returncode == 0, describe(outcome.report)
    assert (outcome.reports / "memo.html").is_file()
    assert memo_text(outcome.reports).strip()


@slow
@pytest.mark.parametrize("case_id", IDS)
def test_memo_has_no_recommendation_from_a_degraded_stage(scenario, case_id):
    outcome = scenario(case_id)
    _completed(outcome)
    stages = _read_json(outcome.results / "run_info.json").get("stages")
    assert isinstance(stages, dict), "run_info.json has no 'stages': cannot tell which recommendations are licensed"
    if outcome.report is None or outcome.report.returncode != 0:
        pytest.fail(f"no memo to read ({describe(outcome.report or outcome.run)})")
    claims = _read_json(outcome.results / "claims.json").get("claims")
    assert isinstance(claims, list) and claims, "the report wrote no claims.json"
    text = memo_text(outcome.reports)
    for claim in claims:
        license_ = LICENSES.get(claim.get("id"))
        if license_ is None:
            continue
        stage, output = license_
        record = stages.get(stage) if isinstance(stages.get(stage), dict) else {}
        found = (record.get("outputs") or {}).get(output) or {}
        allowed = {"ok", "degraded"} if output in DEGRADED_STILL_LICENSES else {"ok"}
        assert record.get("status") not in ("failed", "skipped", None), (
            f"claim {claim['id']} stands though stage {stage} is {record.get('status')}: {record.get('reasons')}")
        assert found.get("status") in allowed, (
            f"claim {claim['id']} stands though {stage}/{output} is {found.get('status')} ({found.get('reason')})")
    # and the memo says no recommendation that claims.json does not hold
    standing = {c.get("id") for c in claims}
    for claim_id, phrase in RECOMMENDATION_PHRASES.items():
        if claim_id not in standing:
            assert phrase not in text, f"the memo says {phrase!r} but claims.json has no {claim_id} claim"


# A phrase only its claim's sentence contains (checked against the claims module in the test below).
RECOMMENDATION_PHRASES = {
    "push_adoption": "part of their playbook",
    "do_not_push": "do not push adoption",
    "target_group": "Start with the customers where it pays most",
}


def test_recommendation_phrases_are_the_memos_own():
    source = (REPO / "causal" / "report" / "sections" / "claims.py").read_text()
    for claim_id, phrase in RECOMMENDATION_PHRASES.items():
        assert phrase in source, f"{phrase!r} ({claim_id}) is no longer a phrase of the memo's claims"


# --- planted effects ---------------------------------------------------------------------------
SIGN_CASES = [(case.id, outcome) for case in CASES if case.check_effects for outcome in ("cancel", "upgrade")]


def _headline(rows: list[dict], outcome: str) -> dict | None:
    """The adjusted ATE of adopting any integration on ``outcome`` one month on (dml, else psm)."""
    for method in ("dml", "psm"):
        for row in rows:
            if (row["treatment"], row["outcome"], row["horizon"], row["method"], row["estimand"]) == (
                    "any", outcome, "1", method, "ATE"):
                return row
    return None


@slow
@pytest.mark.parametrize(("case_id", "outcome"), SIGN_CASES, ids=[f"{c}-{o}" for c, o in SIGN_CASES])
def test_estimate_has_the_planted_sign(scenario, case_id, outcome):
    result = scenario(case_id)
    effects = result.results / "effects.csv"
    assert effects.is_file(), f"no effects.csv ({describe(result.run)})"
    row = _headline(_effects(effects), outcome)
    assert row is not None, f"effects.csv has no adjusted ATE for any/{outcome}/h=1"
    truth = gen.read_truth(result.data)["truth"]
    planted = truth[f"{outcome}_effect_sign"]
    estimate, low, high = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    where = f"{row['method']} {estimate:+.4f} [{low:+.4f}, {high:+.4f}]; planted h=1 ATE {truth[f'{outcome}_h1_ate']}"
    if planted == 0:
        assert low <= 0.0 <= high, f"no effect planted, but the interval excludes 0: {where}"
    else:
        assert estimate * planted > 0, f"planted sign {planted:+d}, estimated {where}"


# --- format mutations ----------------------------------------------------------------------------
def _ledger(results: Path) -> dict[str, dict]:
    quality = _read_json(results / "data_quality.json")
    return {entry.get("file"): entry for entry in quality.get("ledger", []) if isinstance(entry, dict)}


@slow
def test_extra_column_is_accepted_and_noted(scenario):
    outcome = scenario("extra_region_note")
    assert outcome.run.returncode == 0, describe(outcome.run)
    quality = (outcome.results / "data_quality.json")
    assert quality.is_file(), "data_quality.json missing"
    assert "REGION_NOTE" in quality.read_text(), "data_quality.json does not mention the extra column REGION_NOTE"


@slow
@pytest.mark.parametrize(("case_id", "file", "reason", "rows"), [
    ("na_money_50", gen.METADATA_CSV, "unparseable_money", 50),
    ("orphans_20", gen.INTEGRATIONS_CSV, "orphan_no_metadata", 20),
], ids=["na_money_50", "orphans_20"])
def test_bad_rows_are_quarantined_one_by_one(scenario, case_id, file, reason, rows):
    outcome = scenario(case_id)  # the exit code is the contract tests' business; this reads the ledger
    entry = _ledger(outcome.results).get(file)
    assert entry, f"data_quality.json has no ledger entry for {file} ({describe(outcome.run)})"
    assert entry.get("quarantined_by_reason", {}).get(reason) == rows, entry


@slow
@pytest.mark.parametrize("case_id", ["columns_reordered", "crlf", "orphans_20"])
def test_format_only_changes_leave_the_effects_unchanged(scenario, case_id):
    """Reordered columns, CRLF line ends and quarantined orphan rows change no number of the analysis."""
    base, mutated = scenario("base_1200"), scenario(case_id)
    for outcome in (base, mutated):
        assert (outcome.results / "effects.csv").is_file(), f"{outcome.case.id}: no effects.csv ({describe(outcome.run)})"
    assert (mutated.results / "effects.csv").read_bytes() == (base.results / "effects.csv").read_bytes()


# --- concurrency -------------------------------------------------------------------------------
@slow
def test_concurrent_runs_give_the_same_results_as_a_run_alone(scenario, scenario_data, tmp_path):
    """Two runs at once on different results folders, default --processed (shared), the second on two
    workers: every results file the same as the run alone's (timings and folders apart)."""
    alone = scenario("base_1200")
    reference_path = alone.results / "effects.csv"
    assert reference_path.is_file(), f"the run alone wrote no effects.csv ({describe(alone.run)})"
    reference = reference_path.read_bytes()
    reference_contents = results_contents(alone.results)
    data = scenario_data("base_1200")
    started = time.perf_counter()
    runs = []
    for k in (1, 2):
        argv = run_argv(data, tmp_path / f"results_{k}", None, jobs=k)
        runs.append((argv, subprocess.Popen(argv, cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True)))
    finished = []
    for argv, process in runs:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
        finished.append(Command(argv, process.returncode, stdout, stderr, round(time.perf_counter() - started, 1)))
    problems = []
    for k, command in enumerate(finished, start=1):
        (tmp_path / f"run_{k}.stderr.txt").write_text(command.stderr)
        effects = tmp_path / f"results_{k}" / "effects.csv"
        if not effects.is_file():
            problems.append(f"run {k}: no effects.csv ({describe(command)})")
        elif effects.read_bytes() != reference:
            problems.append(f"run {k}: effects.csv differs from the run alone ({describe(command)})")
        else:
            contents = results_contents(tmp_path / f"results_{k}")
            differing = sorted(name for name in set(contents) | set(reference_contents)
                               if contents.get(name) != reference_contents.get(name))
            if differing:
                problems.append(f"run {k} (--jobs {k}): files differ from the run alone's: {differing}")
        if "Traceback" in command.stderr or command.returncode != 0:
            problems.append(f"run {k}: {describe(command)}")
    assert not problems, "; ".join(problems)
