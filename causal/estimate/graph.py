"""The causal graph: confounders known at BOM t -> adoption in month t -> later outcome.

Two views of one assumption. The *concept* graph (tier, MRR, integrations,
history, segment, region, size, calendar month; adoption; outcome) is drawn
for the memo. The *column* graph gives DoWhy one node per column of the
design matrix (every covariate column is a parent of both treatment and
outcome), so DoWhy's back-door criterion returns exactly those columns as
the adjustment set.
"""
from __future__ import annotations

import re
from pathlib import Path

import networkx as nx

TREATMENT_NODE = "treated"
OUTCOME_NODE = "outcome"

# concept -> (label in the figure, design-matrix column prefixes)
CONFOUNDERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "tier": ("Product tier", ("tier_rank", "tier_missing", "tier=")),
    "mrr": ("MRR at BOM", ("log_mrr_bom", "mrr_missing")),
    "integrations": ("Integrations at BOM", ("n_int",)),
    "history": ("History before t", ("d_n_int_prev", "d_log_mrr_prev", "cancel_prev",
                                     "history_missing", "months_before")),
    "segment": ("Segment / team", ("customer_segment=", "team=")),
    "region": ("Region", ("region=",)),
    "size": ("Employee size", ("employee_size=",)),
    "month": ("Calendar month", ("cohort=",)),
}


def concept_of(column: str) -> str:
    """The confounder concept of a design-matrix column (``"other"`` if none).

    Exact names match exactly; prefixes ending in ``=`` match one-hot columns.
    """
    for concept, (_, prefixes) in CONFOUNDERS.items():
        for prefix in prefixes:
            if column == prefix or (prefix.endswith("=") and column.startswith(prefix)):
                return concept
    return "other"


def safe_names(columns: list[str]) -> dict[str, str]:
    """Map design-matrix column names to DoWhy-safe identifiers, keeping order.

    ``customer_segment=NAM Low-touch`` becomes ``w03_customer_segment_NAM_Low_touch``.
    """
    mapping = {}
    for position, column in enumerate(columns):
        mapping[column] = f"w{position:02d}_" + re.sub(r"[^0-9A-Za-z]+", "_", column).strip("_")
    return mapping


def column_graph(covariates: list[str], treatment: str = TREATMENT_NODE,
                 outcome: str = OUTCOME_NODE) -> nx.DiGraph:
    """DAG over columns: every covariate -> treatment, every covariate -> outcome, treatment -> outcome."""
    graph = nx.DiGraph()
    graph.add_node(treatment)
    graph.add_node(outcome)
    for column in covariates:
        graph.add_edge(column, treatment)
        graph.add_edge(column, outcome)
    graph.add_edge(treatment, outcome)
    return graph


def concept_graph() -> nx.DiGraph:
    """DAG over concepts, as drawn in the memo (plus the assumed-absent unmeasured confounder)."""
    graph = nx.DiGraph()
    for concept, (label, _) in CONFOUNDERS.items():
        graph.add_node(label, kind="confounder")
        graph.add_edge(label, "Adoption in month t")
        graph.add_edge(label, "Outcome after t")
    graph.add_edge("Adoption in month t", "Outcome after t")
    graph.nodes["Adoption in month t"]["kind"] = "treatment"
    graph.nodes["Outcome after t"]["kind"] = "outcome"
    graph.add_node("Unmeasured (assumed absent;\nsee sensitivity)", kind="unobserved")
    return graph


def draw_causal_graph(path: Path) -> Path:
    """Draw the concept graph with networkx and matplotlib to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graph = concept_graph()
    confounders = [n for n, k in graph.nodes(data="kind") if k == "confounder"]
    unobserved = [n for n, k in graph.nodes(data="kind") if k == "unobserved"][0]
    positions = {name: (0.0, 1.0 - i / (len(confounders) - 1)) for i, name in enumerate(confounders)}
    positions["Adoption in month t"] = (1.0, 0.5)
    positions["Outcome after t"] = (2.0, 0.5)
    positions[unobserved] = (1.5, 1.05)
    colours = {"confounder": "#dbe9f6", "treatment": "#fde0c5", "outcome": "#d5f0d5", "unobserved": "#eeeeee"}
    fig, ax = plt.subplots(figsize=(9, 5.5))
    solid = [e for e in graph.edges]
    nx.draw_networkx_edges(graph, positions, edgelist=solid, ax=ax, edge_color="#888888",
                           arrows=True, arrowsize=12, node_size=3000, connectionstyle="arc3,rad=0.03")
    dashed = [(unobserved, "Adoption in month t"), (unobserved, "Outcome after t")]
    nx.draw_networkx_edges(nx.DiGraph(dashed), positions, edgelist=dashed, ax=ax, style="dashed",
                           edge_color="#bbbbbb", arrows=True, arrowsize=12, node_size=3000)
    for name, (x, y) in positions.items():
        kind = graph.nodes[name]["kind"]
        ax.text(x, y, name, ha="center", va="center", fontsize=9,
                bbox=dict(boxstyle="round,pad=0.4", fc=colours[kind], ec="#555555"))
    ax.set_title("Assumed causal graph: what is known at the start of month t confounds adoption\n"
                 "and outcomes; adjusting for it (back-door criterion) identifies the effect", fontsize=10)
    ax.set_xlim(-0.45, 2.4)
    ax.set_ylim(-0.12, 1.15)
    ax.axis("off")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
