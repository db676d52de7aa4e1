"""Integration IDs behind the counts: one instance per customer integration, listed month by month.

Marketplace IDs are drawn by popularity without replacement among the IDs the
customer never held (an ID removed is never re-added, so "new ID at t+1"
always means an adoption in month t). Custom IDs are unique per customer
integration. Listing quirks keep the treatment variants unchanged: a removed
integration may still be listed the month after (present at t and t+1), and a
leaver's integrations may be listed one month after their last row (a month
without a metadata row).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.simulator import constants as C
from analysis.simulator.engine import History
from analysis.simulator.observe import Observed
from analysis.simulator.params import ModelParameters
from analysis.simulator.population import Population

MARKETPLACE, CUSTOM = 0, 1


@dataclass
class Instances:
    """One entry per customer integration."""

    customer: np.ndarray  # int customer index
    kind: np.ndarray  # MARKETPLACE | CUSTOM
    code: np.ndarray  # marketplace ID, or custom serial
    start: np.ndarray  # first month counted / listed
    list_end: np.ndarray  # last month listed (if the customer has a row)
    hidden: np.ndarray  # bool, untracked custom integration revealed by the tracking change
    case_style: np.ndarray  # 0 Custom_, 1 CUSTOM_, 2 custom_


@dataclass
class IntegrationRows:
    """Rows of integrations.csv and the treatment variants they imply."""

    customer: np.ndarray
    month: np.ndarray
    integration_id: np.ndarray  # object, as written
    new_marketplace: np.ndarray  # bool (months, customers): new marketplace ID at m+1 vs m
    new_custom: np.ndarray


def catalogue_log_weights() -> np.ndarray:
    """Log popularity of marketplace IDs 1..CATALOGUE_SIZE (index 0 unused, -inf)."""
    weights = np.zeros(C.CATALOGUE_SIZE + 1)
    tail = [k for k in range(1, C.CATALOGUE_SIZE + 1) if k not in C.POPULAR_MARKETPLACE_IDS]
    tail_weights = 1.0 / (np.arange(len(tail)) + 3.0) ** 1.1
    weights[tail] = C.TAIL_WEIGHT_TOTAL * tail_weights / tail_weights.sum()
    weights[list(C.POPULAR_MARKETPLACE_IDS)] = C.POPULAR_WEIGHTS
    with np.errstate(divide="ignore"):
        return np.log(weights)


def _pick_marketplace_ids(rng, customers, counts, ever_held, log_weights):
    """Draw ``counts[k]`` new marketplace IDs for each customer, by popularity, without repeats."""
    keys = log_weights[None, :] + rng.gumbel(size=(customers.size, log_weights.size))
    keys[ever_held[customers]] = -np.inf
    order = np.argsort(-keys, axis=1, kind="stable")
    take = np.arange(log_weights.size)[None, :] < counts[:, None]
    rows = np.repeat(customers, counts)
    codes = order[take]
    ever_held[rows, codes] = True
    return rows, codes


def build_instances(pop: Population, h: History, p: ModelParameters,
                    rng: np.random.Generator, tracking_change: bool, tracking_month: int) -> Instances:
    """Create every integration instance from the factual adds and removals."""
    n_months, n = h.alive.shape
    log_weights = catalogue_log_weights()
    ever_held = np.zeros((n, log_weights.size), bool)
    ever_held[:, 0] = True
    parts = {k: [] for k in ("customer", "kind", "code", "start")}

    def add(customers, counts_mkt, counts_cust, start):
        rows, codes = _pick_marketplace_ids(rng, customers, counts_mkt, ever_held, log_weights)
        parts["customer"] += [rows, np.repeat(customers, counts_cust)]
        parts["kind"] += [np.full(rows.size, MARKETPLACE), np.full(int(counts_cust.sum()), CUSTOM)]
        parts["code"] += [codes, np.zeros(int(counts_cust.sum()), np.int64)]
        parts["start"] += [np.full(rows.size, start), np.full(int(counts_cust.sum()), start)]

    customer = np.zeros(0, np.int64)
    kind = np.zeros(0, np.int64)
    start = np.zeros(0, np.int64)
    code = np.zeros(0, np.int64)
    behaviour_end = np.zeros(0, np.int64)
    list_end = np.zeros(0, np.int64)
    for m in range(n_months):
        joiners = np.flatnonzero(pop.join_month == m)
        add(joiners, pop.marketplace0[joiners].astype(np.int64), pop.custom0[joiners].astype(np.int64), m)
        if m + 1 < n_months:
            adders = np.flatnonzero(h.alive[m] & ((h.add_marketplace[m] > 0) | (h.add_custom[m] > 0)))
            add(adders, h.add_marketplace[m, adders].astype(np.int64),
                h.add_custom[m, adders].astype(np.int64), m + 1)
        fresh = {k: np.concatenate(v) if v else np.zeros(0, np.int64) for k, v in parts.items()}
        parts = {k: [] for k in parts}
        customer = np.concatenate([customer, fresh["customer"]]).astype(np.int64)
        kind = np.concatenate([kind, fresh["kind"]]).astype(np.int64)
        code = np.concatenate([code, fresh["code"]]).astype(np.int64)
        start = np.concatenate([start, fresh["start"]]).astype(np.int64)
        behaviour_end = np.concatenate([behaviour_end, np.full(fresh["customer"].size, n_months - 1)])
        list_end = np.concatenate([list_end, np.full(fresh["customer"].size, n_months - 1)])
        # removals during m: one held instance of the removed kind, chosen at random
        for k_kind, removed in ((MARKETPLACE, h.remove_marketplace[m]), (CUSTOM, h.remove_custom[m])):
            removers = removed > 0
            candidates = np.flatnonzero(removers[customer] & (kind == k_kind) & (start <= m)
                                        & (behaviour_end >= m))
            if candidates.size == 0:
                continue
            priority = rng.random(candidates.size)
            order = np.lexsort((priority, customer[candidates]))
            chosen_sorted = candidates[order]
            first = np.r_[True, customer[chosen_sorted][1:] != customer[chosen_sorted][:-1]]
            chosen = chosen_sorted[first]
            # counted at BOM m, gone at BOM m+1; a stale listing still shows it at m+1
            behaviour_end[chosen] = m
            list_end[chosen] = m + (rng.random(chosen.size) < p.stale_listing_prob)
    n_inst = customer.size
    hidden = np.zeros(n_inst, bool)
    if tracking_change:
        owners = np.flatnonzero(pop.hidden_custom > 0)
        counts = pop.hidden_custom[owners].astype(np.int64)
        k = int(counts.sum())
        customer = np.concatenate([customer, np.repeat(owners, counts)])
        kind = np.concatenate([kind, np.full(k, CUSTOM)])
        code = np.concatenate([code, np.zeros(k, np.int64)])
        start = np.concatenate([start, np.full(k, tracking_month + 1)])
        list_end = np.concatenate([list_end, np.full(k, n_months - 1)])
        hidden = np.concatenate([hidden, np.ones(k, bool)])
    is_custom = kind == CUSTOM
    code[is_custom] = 1000 + rng.permutation(int(is_custom.sum()))
    style = np.zeros(customer.size, np.int8)
    u = rng.random(customer.size)
    style[is_custom & (u < p.upper_custom_prob)] = 1
    style[is_custom & (u >= p.upper_custom_prob) & (u < p.upper_custom_prob + p.lower_custom_prob)] = 2
    return Instances(customer=customer, kind=kind, code=code, start=start,
                     list_end=list_end, hidden=hidden, case_style=style)


def listed_matrix(inst: Instances, obs: Observed, orphan_month: np.ndarray) -> np.ndarray:
    """Boolean (instances, months): the instance has a row in integrations.csv at month m.

    Listed while the customer has a metadata row and the instance is held (or its
    removal is one month old, for stale listings); also in a leaver's orphan month
    when it was listed at the customer's last row.
    """
    n_months = obs.present.shape[0]
    months = np.arange(n_months)[None, :]
    in_span = (inst.start[:, None] <= months) & (months <= inst.list_end[:, None])
    with_row = obs.present[:, inst.customer].T
    orphan = months == orphan_month[inst.customer][:, None]
    was_listed = (inst.start[:, None] <= months - 1) & (months - 1 <= inst.list_end[:, None])
    return (in_span & with_row) | (orphan & was_listed)


def integration_rows(inst: Instances, obs: Observed, p: ModelParameters,
                     rng: np.random.Generator) -> IntegrationRows:
    """Expand instances to the rows of integrations.csv and derive the treatment flags they imply."""
    n_months, n = obs.present.shape
    orphan = (rng.random(n) < p.orphan_rows_prob) & (obs.last_row < n_months - 1)
    orphan_month = np.where(orphan, obs.last_row + 1, -1)
    listed = listed_matrix(inst, obs, orphan_month)
    new = listed[:, 1:] & ~listed[:, :-1]  # listed at m+1, not at m
    new_marketplace = np.zeros((n_months, n), bool)
    new_custom = np.zeros((n_months, n), bool)
    for m in range(n_months - 1):
        for flags, kind in ((new_marketplace, MARKETPLACE), (new_custom, CUSTOM)):
            who = inst.customer[new[:, m] & (inst.kind == kind)]
            flags[m, who] = True
    which, month = np.nonzero(listed)
    prefix = np.array(["Custom_", "CUSTOM_", "custom_"], dtype=object)
    code_text = inst.code[which].astype(str).astype(object)
    is_custom = inst.kind[which] == CUSTOM
    ids = np.where(is_custom, prefix[inst.case_style[which]] + code_text, code_text)
    return IntegrationRows(customer=inst.customer[which], month=month, integration_id=ids,
                           new_marketplace=new_marketplace, new_custom=new_custom)
