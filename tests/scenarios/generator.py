"""An independent, deliberately simple generator of raw extracts for the scenario suite.

The scenario suite (``tests/scenarios/test_scenarios.py``) feeds the whole pipeline, through
its command line only, with data sets that stress one thing at a time: size, the sign and size
of the planted effects, one segment, no custom integrations, a tracking change or none, fewer
months, a month missing, one dominant tier, adoption (almost) fixed by tier, a hidden factor,
and format quirks (reordered columns, CRLF, ``N/A`` money, orphan integration rows, an extra
column).

This module shares nothing with the repository's simulator (``analysis/simulator``) or any
other project code: a second, independent model of the same raw format, so a bug common to the
simulator and the pipeline cannot hide. The format follows CALIBRATION.md: three CSVs
(``account_segments.csv``, ``customer_metadata.csv``, ``integrations.csv``), IDs ``H`` + 8 digits
with leading zeros lost for some IDs in account_segments, ``NAM Low-Touch`` / ``Low-touch``,
``Ent`` for some Enterprise rows, some missing tiers, money as text (``$1,440.00``, ``0``, empty
cells, negative cancellations), ``YYYY-MM`` months in metadata and ``YYYY-MM-01`` dates in
integrations, marketplace (numeric) and ``Custom...`` integration IDs consistent with
``NUM_OF_INTEGRATIONS`` (off by one for a few customer-months, as in the real data), metadata rows
not sorted by month.

The model, per customer: segment, employee size, tier, MRR and a hidden stable factor ``u``;
each month (BOM state recorded first):

- adoption during month m (net new integration, so ``n_{m+1} > n_m``):
  ``logit = -1.3 + (0.3 + adoption_by_tier_strength) * (rank - 2) + 0.25 * (log1p(mrr) - 5)
  + hidden_factor_strength * u``;
- cancellation during month m (customers with MRR > 0):
  ``p = base(tier) * exp(-0.5 * hidden_factor_strength * u) + cancel_effect * (adoptions in
  months m-1, m-2, m-3)``, clipped to [0.001, 0.95]; full (the customer leaves, no later rows)
  or partial (some dollars), written negative;
- upgrade during month m (below Enterprise): ``p = 0.04 + upgrade_effect * (adoptions in months
  m-1..m-3)``, clipped, one tier up, seen in the tier at BOM m+1.

So for a customer-month t the planted effect of adopting on cancelling in month t+1 (the h = 1
outcome of ESTIMANDS.md) is ``cancel_effect`` on the probability scale, and on upgrading in month
t+1 ``upgrade_effect``. The tracking change adds integrations to every customer at one month
transition without changing anything they do (no effect on outcomes), like the Jan-2021 jump.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

SEGMENTS_CSV = "account_segments.csv"
METADATA_CSV = "customer_metadata.csv"
INTEGRATIONS_CSV = "integrations.csv"
TRUTH_FILE = "scenario_truth.json"  # beside the CSVs; not a file the pipeline reads

SEGMENTS_HEADER = ("CUSTOMER_ID", "EMPLOYEE_SIZE", "CUSTOMER_SEGMENT")
METADATA_HEADER = ("CUSTOMER_ID", "SNAPSHOT_MONTH", "PRODUCT_TIER", "NUM_OF_INTEGRATIONS",
                   "CUSTOMER_VALUE_BEGINNING_OF_MONTH", "CUSTOMER_VALUE_END_OF_MONTH",
                   "CUSTOMER_CANCELLATION_DOLLARS")
INTEGRATIONS_HEADER = ("INTEGRATION_ID", "CUSTOMER_ID", "SNAPSHOT_MONTH")
MONEY_COLUMNS = METADATA_HEADER[4:]

DEFAULT_MONTHS = ("2020-08", "2020-09", "2020-10", "2020-11", "2020-12", "2021-01")
TIERS = ("Free", "Starter", "Basic", "Pro", "Enterprise")
REAL_TIER_WEIGHTS = (0.04, 0.17, 0.09, 0.55, 0.15)
SEGMENTS = (  # label as written in the real file, weight (CALIBRATION.md counts)
    ("NAM Low-Touch", 23786), ("International Direct", 9132), ("International Low-touch", 7914),
    ("NAM Direct", 7136), ("NAM Partner", 4763), ("NAM High-touch", 4362),
    ("International Partner", 3959), ("NAM Unowned", 2670), ("International High-touch", 160),
)
SIZES = (("1 to 25", 31702), ("26 to 200", 21211), ("201 or Above", 7279), ("Undefined", 3690))
_SIZE_MULTIPLIER = {"1 to 25": 0.7, "26 to 200": 1.2, "201 or Above": 2.0, "Undefined": 0.9}
_TIER_PRICE = np.array([0.0, 60.0, 140.0, 520.0, 1900.0])  # typical MRR by tier rank
_TIER_COUNT_MEAN = np.array([0.8, 1.1, 1.2, 2.6, 4.6])  # initial integrations by tier rank
_CANCEL_BASE = np.array([0.0, 0.05, 0.06, 0.04, 0.03])  # monthly cancellation probability by tier rank
_UPGRADE_BASE = 0.04
EFFECT_WINDOW = 3  # an adoption changes cancellation / upgrade in the next 3 months
# marketplace IDs: the real file's most common first, then a tail
_MARKETPLACE = ["1", "21", "10", "7", "12", "8", "9", "14", "11"] + [str(i) for i in range(2, 61)
                                                                     if str(i) not in {"21", "10", "7", "12", "8",
                                                                                       "9", "14", "11"}]
_MARKETPLACE_WEIGHTS = np.array([1.0 / (1 + 0.35 * k) for k in range(len(_MARKETPLACE))])
_MARKETPLACE_WEIGHTS /= _MARKETPLACE_WEIGHTS.sum()


@dataclass(frozen=True)
class ScenarioSpec:
    """The knobs of one scenario. Every default is the plain case.

    Attributes
    ----------
    n_customers : int
        Customers (account_segments rows; every customer has metadata rows).
    months : tuple of str
        Snapshot months ``YYYY-MM`` in calendar order (default 2020-08 .. 2021-01).
    seed : int
        Random seed; the same spec gives byte-identical files.
    cancel_effect : float
        Additive change of the monthly cancellation probability in each of the 3 months after an
        adoption (negative = adoption keeps customers; 0 = no effect; positive allowed).
    upgrade_effect : float
        Same for the monthly upgrade probability (base 0.04).
    single_segment : bool
        Every customer in one segment (``NAM Low-Touch``) and one employee size (``1 to 25``).
    custom_share : float
        Share of new integrations that are custom (``Custom...`` IDs); 0 = none at all.
    tracking_change : bool
        A jump in integration counts at one transition that is not customer behaviour.
    tracking_change_month : int or None
        Index of the month whose counts jump (default: the last month, like 2021-01).
    missing_month : int or None
        Index of a month dropped entirely from customer_metadata.csv and integrations.csv.
    tier_weights : tuple of float
        Share of customers starting on Free, Starter, Basic, Pro, Enterprise.
    adoption_by_tier_strength : float
        Extra slope of adoption's logit per tier rank (4 = adoption nearly fixed by tier).
    hidden_factor_strength : float
        Weight of a stable unrecorded factor raising adoption and lowering cancellation.
    """

    n_customers: int = 1200
    months: tuple[str, ...] = DEFAULT_MONTHS
    seed: int = 1
    cancel_effect: float = -0.03
    upgrade_effect: float = 0.03
    single_segment: bool = False
    custom_share: float = 0.15
    tracking_change: bool = False
    tracking_change_month: int | None = None
    missing_month: int | None = None
    tier_weights: tuple[float, ...] = REAL_TIER_WEIGHTS
    adoption_by_tier_strength: float = 0.0
    hidden_factor_strength: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "months", tuple(self.months))
        object.__setattr__(self, "tier_weights", tuple(float(w) for w in self.tier_weights))
        if self.n_customers < 1:
            raise ValueError("n_customers must be >= 1")
        if len(self.months) < 2:
            raise ValueError("at least two months")
        if len(self.tier_weights) != len(TIERS) or sum(self.tier_weights) <= 0:
            raise ValueError(f"tier_weights: {len(TIERS)} non-negative weights")
        if not 0.0 <= self.custom_share <= 1.0:
            raise ValueError("custom_share in [0, 1]")
        if self.missing_month is not None and not 0 <= self.missing_month < len(self.months):
            raise ValueError("missing_month out of range")
        if self.tracking_change_month is not None and not 1 <= self.tracking_change_month < len(self.months):
            raise ValueError("tracking_change_month must be 1 .. len(months) - 1")

    @property
    def jump_month(self) -> int | None:
        """Index of the month whose counts jump, or None without a tracking change."""
        if not self.tracking_change:
            return None
        return len(self.months) - 1 if self.tracking_change_month is None else self.tracking_change_month


@dataclass
class Scenario:
    """A generated data set: the three files as rows (header first) and the planted truth."""

    spec: ScenarioSpec
    files: dict[str, list[list[str]]]
    truth: dict = field(default_factory=dict)


def _sign(value: float) -> int:
    return 0 if value == 0 else (1 if value > 0 else -1)


def _money(value: float) -> str:
    return "0" if value == 0 else f"${value:,.2f}"


def _customer_ids(rng: np.random.Generator, n: int) -> list[str]:
    numbers = rng.choice(np.arange(41_533, 99_945_242), size=n, replace=False)
    numbers.sort()
    return [f"H{int(x):08d}" for x in numbers]


def _short_form(customer_id: str, rng: np.random.Generator) -> str:
    """The ID as account_segments writes it: leading zeros lost for most IDs that have them."""
    digits = customer_id[1:]
    stripped = digits.lstrip("0") or "0"
    if stripped != digits and rng.random() < 0.9:
        return "H" + stripped
    return customer_id


class _Integrations:
    """The integration IDs one customer holds (marketplace IDs unique per customer)."""

    def __init__(self):
        self.ids: list[str] = []

    def add(self, rng: np.random.Generator, custom: bool, serial: list[int]) -> None:
        if custom:
            serial[0] += 1
            prefix = "CUSTOM_" if rng.random() < 0.1 else "Custom_"
            self.ids.append(f"{prefix}{serial[0]:06d}")
            return
        held = set(self.ids)
        free = [k for k, x in enumerate(_MARKETPLACE) if x not in held]
        if not free:  # every marketplace app held: make it custom instead
            self.add(rng, True, serial)
            return
        weights = _MARKETPLACE_WEIGHTS[free] / _MARKETPLACE_WEIGHTS[free].sum()
        self.ids.append(_MARKETPLACE[free[int(rng.choice(len(free), p=weights))]])

    def remove_one(self, rng: np.random.Generator) -> None:
        if self.ids:
            self.ids.pop(int(rng.integers(len(self.ids))))


def generate(spec: ScenarioSpec) -> Scenario:
    """Simulate ``spec`` and return the three files' rows and the planted truth."""
    rng = np.random.default_rng(spec.seed)
    n, months = spec.n_customers, spec.months
    n_months = len(months)
    ids = _customer_ids(rng, n)
    if spec.single_segment:
        segment = np.array(["NAM Low-Touch"] * n, dtype=object)
        size = np.array(["1 to 25"] * n, dtype=object)
    else:
        labels, weights = zip(*SEGMENTS)
        segment = rng.choice(np.array(labels, dtype=object), size=n, p=np.array(weights) / sum(weights))
        labels, weights = zip(*SIZES)
        size = rng.choice(np.array(labels, dtype=object), size=n, p=np.array(weights) / sum(weights))
    tier_p = np.array(spec.tier_weights) / sum(spec.tier_weights)
    rank = rng.choice(len(TIERS), size=n, p=tier_p)
    hidden = rng.normal(size=n)
    start = np.where(rng.random(n) < 0.85, 0, rng.integers(1, n_months, size=n))
    size_mult = np.array([_SIZE_MULTIPLIER[s] for s in size])
    mrr = _TIER_PRICE[rank] * size_mult * rng.lognormal(0.0, 0.45, size=n)
    mrr = np.round(mrr, 2)
    serial = [0]
    held = [_Integrations() for _ in range(n)]
    first_counts = rng.poisson(_TIER_COUNT_MEAN[rank] * (0.6 + 0.4 * size_mult))
    for i in range(n):
        for _ in range(int(first_counts[i])):
            held[i].add(rng, rng.random() < spec.custom_share, serial)
    active = np.zeros(n, dtype=bool)
    left = np.zeros(n, dtype=bool)
    adopted = np.zeros((n, n_months), dtype=bool)  # genuine adoption during month m
    jump = spec.jump_month

    metadata_rows: list[tuple[int, int, list[str]]] = []  # (customer, month index, row)
    integration_rows: list[tuple[int, int, list[str]]] = []
    truth_cancel, truth_upgrade, truth_cancel_att = [], [], []
    for m in range(n_months):
        active = (start <= m) & ~left
        # tracking change: counts jump at BOM of month `jump`, nothing customers did
        if jump is not None and m == jump:
            for i in np.flatnonzero(active & (rng.random(n) < 0.9)):
                for _ in range(1 + int(rng.poisson(1.5))):
                    held[i].add(rng, spec.custom_share > 0, serial)
        recent = adopted[:, max(0, m - EFFECT_WINDOW):m].sum(axis=1)
        recent_other = adopted[:, max(0, m - EFFECT_WINDOW):max(0, m - 1)].sum(axis=1)  # without m-1
        logit = (-1.3 + (0.3 + spec.adoption_by_tier_strength) * (rank - 2)
                 + 0.25 * np.where(mrr > 0, np.log1p(mrr) - 5.0, 0.0) + spec.hidden_factor_strength * hidden)
        adopt = active & (rng.random(n) < 1.0 / (1.0 + np.exp(-logit)))
        base_cancel = _CANCEL_BASE[rank] * np.exp(-0.5 * spec.hidden_factor_strength * hidden)
        p_cancel = np.clip(base_cancel + spec.cancel_effect * recent, 0.001, 0.95)
        cancel = active & (mrr > 0) & (rng.random(n) < p_cancel)
        full = cancel & (rng.random(n) < 0.35)
        p_upgrade = np.clip(_UPGRADE_BASE + spec.upgrade_effect * recent, 0.0, 0.9)
        upgrade = active & ~full & (rank < len(TIERS) - 1) & (rng.random(n) < p_upgrade)
        # planted truth for cohort t = m - 1: the h = 1 outcome is what happens in month m
        if m >= 1:
            unit = active & (start <= m - 1)
            p1 = np.clip(base_cancel + spec.cancel_effect * (recent_other + 1), 0.001, 0.95)
            p0 = np.clip(base_cancel + spec.cancel_effect * recent_other, 0.001, 0.95)
            paying = unit & (mrr > 0)
            truth_cancel.extend((p1 - p0)[paying].tolist())
            truth_cancel_att.extend((p1 - p0)[paying & adopted[:, m - 1]].tolist())
            u1 = np.clip(_UPGRADE_BASE + spec.upgrade_effect * (recent_other + 1), 0.0, 0.9)
            u0 = np.clip(_UPGRADE_BASE + spec.upgrade_effect * recent_other, 0.0, 0.9)
            truth_upgrade.extend((u1 - u0)[unit & (rank < len(TIERS) - 1)].tolist())
        # write BOM state and what happened during month m
        dollars = np.where(full, mrr, np.round(mrr * rng.uniform(0.1, 0.6, size=n), 2))
        dollars = np.where(cancel, dollars, 0.0)
        eom = np.round(mrr - dollars, 2)
        expand = active & ~cancel & (rng.random(n) < 0.08)
        eom = np.where(expand, np.round(eom * rng.uniform(1.01, 1.15, size=n), 2), eom)
        new_rank = np.where(upgrade, rank + 1, rank)
        upgraded_price = _TIER_PRICE[new_rank] * size_mult * rng.lognormal(0.0, 0.2, size=n)
        eom = np.where(upgrade, np.round(np.maximum(eom, upgraded_price), 2), eom)
        month = months[m]
        for i in np.flatnonzero(active):
            if rank[i] == 4 and rng.random() < 0.25:
                tier = "Ent"
            elif rng.random() < 0.01:
                tier = ""
            else:
                tier = TIERS[rank[i]]
            count = len(held[i].ids)
            if rng.random() < 0.02:  # NUM_OF_INTEGRATIONS and the rows roughly, not exactly, agree
                count = max(0, count + (1 if rng.random() < 0.5 else -1))
            bom_text = "" if rng.random() < 0.002 else _money(float(mrr[i]))
            eom_text = "" if rng.random() < 0.003 else _money(float(eom[i]))
            if cancel[i]:
                cancel_text = f"-${float(dollars[i]):,.2f}"
            else:
                cancel_text = "0" if rng.random() < 0.1 else ""
            metadata_rows.append((i, m, [ids[i], month, tier, str(count), bom_text, eom_text, cancel_text]))
            for integration_id in held[i].ids:
                integration_rows.append((i, m, [integration_id, ids[i], f"{month}-01"]))
        # transition to month m + 1
        for i in np.flatnonzero(adopt):
            for _ in range(1 + int(rng.poisson(0.4))):
                held[i].add(rng, rng.random() < spec.custom_share, serial)
        for i in np.flatnonzero(active & ~adopt & (rng.random(n) < 0.04)):
            held[i].remove_one(rng)
        adopted[:, m] = adopt
        left |= full
        rank, mrr = new_rank, eom

    if spec.missing_month is not None:
        metadata_rows = [r for r in metadata_rows if r[1] != spec.missing_month]
        integration_rows = [r for r in integration_rows if r[1] != spec.missing_month]
    order = rng.permutation(len(metadata_rows))  # rows not sorted by month within a customer
    metadata = [list(METADATA_HEADER)] + [metadata_rows[k][2] for k in order]
    integrations = [list(INTEGRATIONS_HEADER)] + [r[2] for r in integration_rows]
    present = sorted({r[0] for r in metadata_rows})
    segments = [list(SEGMENTS_HEADER)] + [[_short_form(ids[i], rng), size[i], segment[i]] for i in present]

    def mean(values: list[float]) -> float | None:
        return round(float(np.mean(values)), 6) if values else None

    jump_index = spec.jump_month
    truth = {
        "cancel_effect": spec.cancel_effect,
        "cancel_effect_sign": _sign(spec.cancel_effect),
        "upgrade_effect": spec.upgrade_effect,
        "upgrade_effect_sign": _sign(spec.upgrade_effect),
        "effect_window_months": EFFECT_WINDOW,
        "scale": "probability per month, in each of the 3 months after the adoption month",
        "cancel_h1_ate": mean(truth_cancel),
        "cancel_h1_att": mean(truth_cancel_att),
        "upgrade_h1_ate": mean(truth_upgrade),
        "tracking_change_after": months[jump_index - 1] if jump_index is not None else None,
        "missing_month": months[spec.missing_month] if spec.missing_month is not None else None,
        "months_written": [mo for k, mo in enumerate(months) if k != spec.missing_month],
        "hidden_factor_strength": spec.hidden_factor_strength,
        "adoption_by_tier_strength": spec.adoption_by_tier_strength,
        "customers": len(present),
        "metadata_rows": len(metadata) - 1,
        "integration_rows": len(integrations) - 1,
        "custom_integration_rows": sum(1 for r in integrations[1:] if r[0].lower().startswith("custom")),
        "genuine_adoption_rate": round(float(adopted[:, :-1].mean()), 6),
    }
    files = {SEGMENTS_CSV: segments, METADATA_CSV: metadata, INTEGRATIONS_CSV: integrations}
    return Scenario(spec=spec, files=files, truth=truth)


# --- writing and reading ------------------------------------------------------------
def _write_rows(path: Path, rows: list[list[str]], line_end: str = "\n") -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=line_end).writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def _read_rows(path: Path) -> tuple[list[list[str]], str]:
    data = path.read_bytes().decode("utf-8")
    line_end = "\r\n" if "\r\n" in data else "\n"
    return list(csv.reader(io.StringIO(data, newline=""))), line_end


def write_scenario(spec: ScenarioSpec, out_dir: Path) -> Path:
    """Write the three CSVs of ``spec`` (and ``scenario_truth.json``) into ``out_dir``; return it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scenario = generate(spec)
    for name, rows in scenario.files.items():
        _write_rows(out_dir / name, rows)
    record = {"spec": asdict(spec), "truth": scenario.truth, "mutations": []}
    (out_dir / TRUTH_FILE).write_text(json.dumps(record, indent=2) + "\n")
    return out_dir


def read_truth(data_dir: Path) -> dict:
    """The ``spec``, ``truth`` and ``mutations`` recorded by :func:`write_scenario` and the mutators."""
    return json.loads((Path(data_dir) / TRUTH_FILE).read_text())


def _note_mutation(data_dir: Path, note: dict) -> dict:
    path = Path(data_dir) / TRUTH_FILE
    if path.is_file():
        record = json.loads(path.read_text())
        record.setdefault("mutations", []).append(note)
        path.write_text(json.dumps(record, indent=2) + "\n")
    return note


# --- format mutators: each rewrites files of a written scenario in place ------------
def reorder_columns(data_dir: Path, files: tuple[str, ...] = (SEGMENTS_CSV, METADATA_CSV, INTEGRATIONS_CSV)) -> dict:
    """Reverse the column order of ``files`` (same values, same rows)."""
    for name in files:
        rows, line_end = _read_rows(Path(data_dir) / name)
        _write_rows(Path(data_dir) / name, [row[::-1] for row in rows], line_end)
    return _note_mutation(data_dir, {"mutation": "reorder_columns", "files": list(files)})


def crlf_line_endings(data_dir: Path) -> dict:
    """Rewrite the three files with ``\\r\\n`` line ends."""
    for name in (SEGMENTS_CSV, METADATA_CSV, INTEGRATIONS_CSV):
        rows, _ = _read_rows(Path(data_dir) / name)
        _write_rows(Path(data_dir) / name, rows, "\r\n")
    return _note_mutation(data_dir, {"mutation": "crlf_line_endings"})


def na_money_cells(data_dir: Path, k: int = 50, seed: int = 0) -> dict:
    """Write ``N/A`` into ``k`` money cells of customer_metadata.csv, each in a different row.

    Returns the note, with the 1-based physical ``lines`` changed.
    """
    path = Path(data_dir) / METADATA_CSV
    rows, line_end = _read_rows(path)
    header = rows[0]
    money = [header.index(c) for c in MONEY_COLUMNS]
    rng = np.random.default_rng(seed)
    chosen = sorted(int(x) for x in rng.choice(np.arange(1, len(rows)), size=min(k, len(rows) - 1), replace=False))
    for r in chosen:
        rows[r][money[int(rng.integers(len(money)))]] = "N/A"
    _write_rows(path, rows, line_end)
    return _note_mutation(data_dir, {"mutation": "na_money_cells", "k": len(chosen), "lines": [r + 1 for r in chosen]})


def orphan_integration_rows(data_dir: Path, k: int = 20, seed: int = 0) -> dict:
    """Append ``k`` integration rows for customers that are in no file's metadata."""
    data_dir = Path(data_dir)
    meta_rows, _ = _read_rows(data_dir / METADATA_CSV)
    id_col, month_col = meta_rows[0].index("CUSTOMER_ID"), meta_rows[0].index("SNAPSHOT_MONTH")
    known = {r[id_col] for r in meta_rows[1:]}
    months = sorted({r[month_col] for r in meta_rows[1:]})
    path = data_dir / INTEGRATIONS_CSV
    rows, line_end = _read_rows(path)
    header = rows[0]
    rng = np.random.default_rng(seed)
    added = 0
    while added < k:
        customer = f"H{int(rng.integers(10_000_000, 99_999_999)):08d}"
        if customer in known:
            continue
        known.add(customer)
        values = {"INTEGRATION_ID": _MARKETPLACE[int(rng.integers(10))], "CUSTOMER_ID": customer,
                  "SNAPSHOT_MONTH": f"{months[int(rng.integers(len(months)))]}-01"}
        rows.append([values[c] for c in header])
        added += 1
    _write_rows(path, rows, line_end)
    return _note_mutation(data_dir, {"mutation": "orphan_integration_rows", "k": k,
                                     "lines": list(range(len(rows) - k + 1, len(rows) + 1))})


def extra_column(data_dir: Path, name: str = "REGION_NOTE", file: str = SEGMENTS_CSV, seed: int = 0) -> dict:
    """Append a column ``name`` (free text, often empty) to ``file``."""
    path = Path(data_dir) / file
    rows, line_end = _read_rows(path)
    rng = np.random.default_rng(seed)
    notes = ["", "", "", "moved from EMEA", "check CRM", "key account, see notes"]
    rows = [rows[0] + [name]] + [row + [notes[int(rng.integers(len(notes)))]] for row in rows[1:]]
    _write_rows(path, rows, line_end)
    return _note_mutation(data_dir, {"mutation": "extra_column", "file": file, "column": name})


def summary(spec: ScenarioSpec) -> dict:
    """Quick figures of a spec's data (for eyeballing calibration; not used by the pipeline)."""
    scenario = generate(spec)
    meta = scenario.files[METADATA_CSV]
    header = meta[0]
    month_col, count_col = header.index("SNAPSHOT_MONTH"), header.index("NUM_OF_INTEGRATIONS")
    by_month: dict[str, list[int]] = {}
    for row in meta[1:]:
        by_month.setdefault(row[month_col], []).append(int(row[count_col]))
    return {
        "truth": scenario.truth,
        "mean_count_by_month": {m: round(sum(v) / len(v), 3) for m, v in sorted(by_month.items())},
        "zero_share_by_month": {m: round(sum(1 for x in v if x == 0) / len(v), 3) for m, v in sorted(by_month.items())},
        "rows_by_month": {m: len(v) for m, v in sorted(by_month.items())},
    }
