"""Numbers and sentences for the memo, chosen from the estimates themselves.

Every finding the memo states goes through these functions, so the words
follow the numbers: "lowers" or "raises" by the sign of the interval, "we
cannot tell" when it covers zero. Headline numbers are wrapped in marked
spans (``.memo-num`` with ``data-row`` and ``data-field``) so a test can find
each one in the rendered HTML and compare it with its row in effects.csv.
"""
from __future__ import annotations

import math
import re

import pandas as pd

MINUS = "\u2212"
DOLLAR = "\\$"  # escaped: a bare $ starts TeX math in pandoc and Quarto markdown
BINARY = ("cancel", "upgrade")
RATES = BINARY + ("cancel_rate",)  # shown in percentage points
OUTCOME_PHRASES = {
    "cancel_rate": "the dollar cancellation rate (cancelled MRR as a share of beginning MRR)",
    "cancel": "the chance a customer cancels (fully or in part)",
    "upgrade": "the chance a customer moves up a tier",
    "cancel_dollars": "cancelled MRR per customer",
    "mrr_change": "the change in MRR per customer",
}
OUTCOME_SHORT = {
    "cancel_rate": "Dollar cancellation rate",
    "cancel": "Cancellation",
    "upgrade": "Upgrade",
    "cancel_dollars": "Cancelled MRR ($)",
    "mrr_change": "MRR change ($)",
}
TREATMENT_PHRASES = {
    "any": "adding at least one integration in a month",
    "first": "adding a first integration",
    "marketplace": "adding a marketplace app",
    "custom": "adding a custom (API-built) integration",
}
METHOD_NAMES = {
    "naive": "raw comparison",
    "psm": "matched comparison",
    "dml": "double machine learning",
}


def is_missing(value) -> bool:
    """True for None, NaN and pandas NA."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def signed(text: str) -> str:
    """Replace an ASCII leading minus by the typographic one."""
    return text.replace("-", MINUS, 1) if text.startswith("-") else text


def fmt_number(value: float, decimals: int = 1) -> str:
    """``-1.234`` -> ``−1.2``; thousands separated; ``n/a`` when missing."""
    if is_missing(value) or not math.isfinite(float(value)):
        return "n/a"
    text = f"{float(value):,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":  # a rounded zero has no sign
        text = text.lstrip("-")
    return signed(text)


def fmt_count(value) -> str:
    """An integer count with thousands separators."""
    if is_missing(value):
        return "n/a"
    return f"{int(round(float(value))):,}"


def fmt_percent(share: float, decimals: int = 1) -> str:
    """A share (0.123) as ``12.3%``."""
    if is_missing(share):
        return "n/a"
    return f"{fmt_number(100 * float(share), decimals)}%"


def fmt_dollars(value: float) -> str:
    """Dollars for a reader: ``$1.2 million``, ``$968,000``, ``$34,512``, ``$270``, ``$3.20`` (``$`` escaped)."""
    if is_missing(value) or not math.isfinite(float(value)):
        return "n/a"
    value = float(value)
    sign = MINUS if value < 0 else ""
    size = abs(value)
    if size >= 1e6:
        return f"{sign}{DOLLAR}{size / 1e6:,.1f} million"
    if size >= 100_000:
        return f"{sign}{DOLLAR}{round(size, -3):,.0f}"
    if size >= 10:
        return f"{sign}{DOLLAR}{size:,.0f}"
    return f"{sign}{DOLLAR}{size:,.2f}"


def md_text(text: str) -> str:
    """Free text from a results file, safe in markdown (dollar signs escaped once)."""
    return re.sub(r"(?<!\\)\$", r"\\$", " ".join(str(text).split()))


def scale_of(outcome: str) -> tuple[float, str]:
    """Multiplier and unit for an outcome's effects: points for rates, dollars for money."""
    if outcome in RATES:
        return 100.0, "percentage points"
    return 1.0, "dollars"


def decimals_for(values: list[float], outcome: str) -> int:
    """Decimals that show an estimate and its interval without hiding small effects."""
    factor, _ = scale_of(outcome)
    finite = [abs(float(v)) * factor for v in values if not is_missing(v) and math.isfinite(float(v))]
    largest = max(finite, default=0.0)
    if largest >= 10:
        return 1 if outcome in RATES else 0
    if largest >= 1:
        return 1 if outcome in RATES else 2
    return 2


def row_key(row) -> str:
    """``treatment|outcome|horizon|method|estimand``: the row a marked number comes from."""
    return "|".join(str(row[k]) for k in ("treatment", "outcome", "horizon", "method", "estimand"))


def marked(row, field: str, text: str, absolute: bool = False) -> str:
    """A pandoc span tagging ``text`` with its source row and column (attributes only show in HTML).

    ``absolute`` says the text shows the size of the value without its sign.
    """
    factor, _ = scale_of(str(row["outcome"]))
    extra = ' data-abs="true"' if absolute else ""
    return (f'[{text}]{{.memo-num data-row="{row_key(row)}" data-field="{field}" '
            f'data-scale="{factor:g}"{extra}}}')


def effect_parts(row, mark: bool = False, absolute_estimate: bool = False) -> dict[str, str]:
    """Formatted estimate, interval ends and unit of one effects row.

    ``absolute_estimate`` drops the estimate's sign (for "lowers ... by 1.2").
    """
    outcome = str(row["outcome"])
    factor, unit = scale_of(outcome)
    decimals = decimals_for([row["estimate"], row["ci_low"], row["ci_high"]], outcome)
    parts = {}
    for field in ("estimate", "ci_low", "ci_high"):
        value = float(row[field]) * factor
        absolute = absolute_estimate and field == "estimate"
        text = fmt_number(abs(value) if absolute else value, decimals)
        if outcome not in RATES and text != "n/a":
            text = text.replace(MINUS, MINUS + DOLLAR, 1) if text.startswith(MINUS) else DOLLAR + text
        parts[field] = marked(row, field, text, absolute) if mark else text
    parts["unit"] = unit if outcome in RATES else ""
    return parts


def effect_compact(row) -> str:
    """``−1.2 (−1.8 to −0.6)`` for tables whose header gives the unit."""
    p = effect_parts(row)
    return f"{p['estimate']} ({p['ci_low']} to {p['ci_high']})"


def effect_with_interval(row, mark: bool = False) -> str:
    """``−1.2 percentage points (95% interval −2.0 to −0.4)``."""
    p = effect_parts(row, mark)
    unit = f" {p['unit']}" if p["unit"] else ""
    return f"{p['estimate']}{unit} (95% interval {p['ci_low']} to {p['ci_high']})"


def direction(row) -> str:
    """``"down"`` when the whole interval is below zero, ``"up"`` above, else ``"unclear"``.

    An interval that does not contain its own estimate also reads ``"unclear"``.
    """
    low, high, estimate = row["ci_low"], row["ci_high"], row["estimate"]
    if is_missing(low) or is_missing(high):
        return "unclear"
    if not is_missing(estimate) and not float(low) <= float(estimate) <= float(high):
        return "unclear"  # an interval that does not contain its estimate is not evidence either way
    if float(high) < 0:
        return "down"
    if float(low) > 0:
        return "up"
    return "unclear"


def verb_for(row) -> str:
    """``lowers`` / ``raises`` / ``may not change`` chosen from the interval."""
    return {"down": "lowers", "up": "raises", "unclear": "may or may not change"}[direction(row)]


def window_phrase(horizon: int) -> str:
    """``over the next month`` / ``over the next 3 months``."""
    return "over the next month" if int(horizon) == 1 else f"over the next {int(horizon)} months"


def effect_sentence(row, mark: bool = False) -> str:
    """One plain sentence stating an effect, its direction chosen by the interval."""
    treatment = TREATMENT_PHRASES.get(str(row["treatment"]), f"treatment '{row['treatment']}'")
    outcome = OUTCOME_PHRASES.get(str(row["outcome"]), str(row["outcome"]))
    window = window_phrase(int(row["horizon"]))
    numbers = effect_with_interval(row, mark)
    how = direction(row)
    if how == "unclear":
        return (f"We cannot tell whether {treatment} changes {outcome} {window}: the estimate is "
                f"{numbers}, and the interval includes zero.")
    verb = "lowers" if how == "down" else "raises"
    size = effect_parts(row, mark, absolute_estimate=True)
    unit = f" {size['unit']}" if size["unit"] else ""
    return (f"{treatment[0].upper()}{treatment[1:]} {verb} {outcome} {window}, by about "
            f"{size['estimate']}{unit} (95% interval {size['ci_low']} to {size['ci_high']}).")


def good_or_bad(outcome: str, how: str) -> str | None:
    """Whether a direction is good news for the business: ``"good"``, ``"bad"`` or None."""
    if how == "unclear":
        return None
    good_down = outcome in ("cancel", "cancel_dollars", "cancel_rate")
    return "good" if (how == "down") == good_down else "bad"


def compare_naive(naive_row, adjusted_row) -> str:
    """How the raw comparison misstates the adjusted effect, in words."""
    naive, adjusted = float(naive_row["estimate"]), float(adjusted_row["estimate"])
    outcome = str(adjusted_row["outcome"])
    factor, unit = scale_of(outcome)
    decimals = decimals_for([naive, adjusted], outcome)
    unit = f" {unit}" if outcome in RATES else ""
    n_text = fmt_number(naive * factor, decimals)
    a_text = fmt_number(adjusted * factor, decimals)
    if direction(adjusted_row) == "unclear" and direction(naive_row) != "unclear":
        return (f"The raw comparison of adopters with non-adopters shows a clear difference ({n_text}{unit}), "
                f"but after adjusting for who adopts, the estimate ({a_text}{unit}) cannot be told apart from zero.")
    if abs(naive) < 1e-12 and abs(adjusted) < 1e-12:
        return f"The raw comparison and the adjusted estimate agree ({a_text}{unit})."
    if naive * adjusted < 0:
        relation = "points the opposite way from"
    elif abs(naive) > abs(adjusted):
        ratio = abs(naive) / abs(adjusted) if abs(adjusted) > 1e-12 else math.inf
        relation = ("is far larger than" if not math.isfinite(ratio) or ratio > 5 else
                    f"is about {ratio:.1f} times as large as" if ratio >= 1.5 else "is a little larger than")
    else:
        relation = "understates"
    return (f"The raw comparison of adopters with non-adopters ({n_text}{unit}) {relation} the "
            f"adjusted estimate ({a_text}{unit}).")
