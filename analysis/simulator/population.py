"""Who the customers are: segment, size, IDs, joining month and their state when they first appear."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.simulator import constants as C
from analysis.simulator.params import ModelParameters


@dataclass
class Population:
    """Static attributes (one entry per customer) and the state at the customer's first month."""

    number: np.ndarray  # int64, the digits of the ID (0 .. 99,999,999)
    segments_id: np.ndarray  # object, ID as written in account_segments.csv (leading zeros lost for some)
    raw_segment: np.ndarray  # object, CUSTOMER_SEGMENT as written (``NAM Low-Touch`` quirk)
    segment: np.ndarray  # object, canonical label
    region: np.ndarray  # object
    team: np.ndarray  # object
    team_code: np.ndarray  # int8, index into constants.TEAMS
    employee_size: np.ndarray  # object
    size_scale: np.ndarray  # float, SIZE_SCALE of the employee size
    join_month: np.ndarray  # int8, month index of the first row
    account_scale: np.ndarray  # float, latent size of the account (drives tier, MRR, integrations)
    price_multiplier: np.ndarray  # float, the customer's MRR relative to the tier's median price
    growth_trend: np.ndarray  # float, monthly log growth of MRR
    tier0: np.ndarray  # int8, tier at the first month
    mrr0: np.ndarray  # int64 cents, BOM MRR at the first month
    marketplace0: np.ndarray  # int16, behavioural marketplace integrations at the first month
    custom0: np.ndarray  # int16, behavioural (tracked) custom integrations at the first month
    hidden_custom: np.ndarray  # int16, custom integrations that exist but are not tracked before the change
    engagement: np.ndarray | None = None  # float, unmeasured account factor U (params.hidden_factor); never written

    @property
    def size(self) -> int:
        return int(self.number.size)

    def customer_ids(self) -> np.ndarray:
        """Normalised IDs as metadata and integrations write them: ``H`` + 8 digits."""
        return np.char.add("H", np.char.zfill(self.number.astype(str), 8)).astype(object)


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer counts proportional to ``weights`` (largest remainder)."""
    weights = np.asarray(weights, dtype=float)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


def draw_customer_numbers(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique ID digits and the ID as account_segments.csv writes it.

    The written length follows the real file: most IDs keep 9 characters, a sixth
    lose their leading zeros (``H2041038``, ``H445372``).
    """
    lengths = np.array(sorted(C.ID_LENGTH_COUNTS, reverse=True))
    length = np.repeat(lengths, allocate(n, np.array([C.ID_LENGTH_COUNTS[k] for k in lengths])))
    length = rng.permutation(length)
    kept_zero = (length == 9) & (rng.random(n) < C.ZERO_LED_KEPT_SHARE)
    low = np.where(length == 9, 10**7, 10 ** np.clip(length - 2, 0, None)).astype(np.int64)
    high = np.where(length == 9, 10**8, 10 ** (length - 1)).astype(np.int64)
    low = np.where(kept_zero, 10**4, low)
    high = np.where(kept_zero, 10**7, high)
    number = low + np.floor(rng.random(n) * (high - low)).astype(np.int64)
    for _ in range(100):  # redraw duplicates within their own range
        _, first = np.unique(number, return_index=True)
        duplicate = np.ones(n, dtype=bool)
        duplicate[first] = False
        if not duplicate.any():
            break
        k = int(duplicate.sum())
        number[duplicate] = low[duplicate] + np.floor(rng.random(k) * (high - low)[duplicate]).astype(np.int64)
    else:  # pragma: no cover - only with absurd sizes
        raise ValueError("could not draw unique customer IDs")
    padded = np.char.zfill(number.astype(str), 8)
    stripped = np.char.lstrip(padded, "0")
    written = np.where(kept_zero | (length == 9), padded, stripped)
    return number, np.char.add("H", written).astype(object)


def draw_population(rng: np.random.Generator, n: int, params: ModelParameters, n_months: int) -> Population:
    """Draw ``n`` customers: static attributes and their state at their first month."""
    cells = [(size, seg) for size in C.EMPLOYEE_SIZES for seg in C.SEGMENT_SIZE_COUNTS[size]]
    cell_counts = allocate(n, np.array([C.SEGMENT_SIZE_COUNTS[s][g] for s, g in cells]))
    cell_index = rng.permutation(np.repeat(np.arange(len(cells)), cell_counts))
    employee_size = np.array([cells[k][0] for k in range(len(cells))], dtype=object)[cell_index]
    raw_segment = np.array([cells[k][1] for k in range(len(cells))], dtype=object)[cell_index]
    canonical = {g: C.canonical_segment(g) for _, g in cells}
    segment = np.array([canonical[g] for g in raw_segment], dtype=object)
    region = np.array([C.split_segment(s)[0] for s in segment], dtype=object)
    team = np.array([C.split_segment(s)[1] for s in segment], dtype=object)
    team_code = np.array([C.TEAMS.index(t) for t in team], dtype=np.int8)
    size_scale = np.array([C.SIZE_SCALE[s] for s in employee_size])

    number, segments_id = draw_customer_numbers(rng, n)

    n_first = int(round(n * params.share_present_first_month))
    later = allocate(n - n_first, np.array(params.joiner_month_weights[: n_months - 1]))
    join_month = rng.permutation(np.repeat(np.arange(n_months), np.concatenate([[n_first], later]))).astype(np.int8)
    joiner = join_month > 0

    team_scale = np.array([params.team_scale[t] for t in C.TEAMS])[team_code]
    account_scale = size_scale + team_scale + rng.standard_normal(n)

    tier_latent = account_scale + 0.6 * rng.standard_normal(n) + params.joiner_tier_shift * joiner
    cut_free, cut_starter, cut_pro = params.tier_cuts
    tier0 = np.select(
        [tier_latent < cut_free, tier_latent < cut_starter, tier_latent < cut_pro],
        [C.FREE, C.STARTER, C.PRO], default=C.ENTERPRISE,
    ).astype(np.int8)
    legacy = (~joiner) & np.isin(tier0, (C.STARTER, C.PRO)) & (rng.random(n) < params.basic_share_of_starter_pro)
    tier0[legacy] = C.BASIC

    price_multiplier = np.exp(params.mrr_scale_loading * account_scale + params.mrr_noise_sd * rng.standard_normal(n))
    tier_price = np.array(params.tier_price)
    mrr0 = np.round(tier_price[tier0] * price_multiplier * 100).astype(np.int64)

    tier_mean_scale = np.bincount(tier0, weights=account_scale, minlength=5) / np.maximum(
        np.bincount(tier0, minlength=5), 1)
    within_tier = account_scale - tier_mean_scale[tier0]
    base_zero = np.array(params.int_zero_prob)[tier0]
    zero_logit = np.log(base_zero / (1 - base_zero)) - params.int_zero_scale_loading * within_tier
    zero_prob = 1 / (1 + np.exp(-zero_logit)) + params.joiner_extra_zero_prob * joiner
    positive_mean = np.array(params.int_mean_by_tier)[tier0] / (1.0 - np.array(params.int_zero_prob)[tier0]) - 1.0
    positive_mean = positive_mean * np.exp(params.int_scale_loading * within_tier)
    positive_mean = positive_mean * np.where(joiner, params.joiner_int_factor, 1.0)
    gamma = rng.gamma(params.int_dispersion, positive_mean / params.int_dispersion)
    has_any = rng.random(n) >= zero_prob
    total0 = np.minimum(has_any * (1 + rng.poisson(gamma)), 60)
    custom0 = rng.binomial(total0, np.array(params.custom_share)[tier0])
    marketplace0 = total0 - custom0

    has_hidden = rng.random(n) < np.array(params.hidden_custom_prob)[tier0]
    hidden = has_hidden * (1 + rng.poisson(np.array(params.hidden_custom_mean)[tier0]))

    growth_trend = params.growth_trend_mean + params.growth_trend_sd * rng.standard_normal(n)

    return Population(
        number=number, segments_id=segments_id, raw_segment=raw_segment, segment=segment,
        region=region, team=team, team_code=team_code, employee_size=employee_size,
        size_scale=size_scale, join_month=join_month, account_scale=account_scale,
        price_multiplier=price_multiplier, growth_trend=growth_trend, tier0=tier0, mrr0=mrr0,
        marketplace0=marketplace0.astype(np.int16), custom0=custom0.astype(np.int16),
        hidden_custom=np.minimum(hidden, 40).astype(np.int16),
    )
