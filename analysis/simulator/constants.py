"""Fixed facts the simulator reproduces: calendar, segment mix, ID lengths, tiers, catalogue.

The segment x employee-size counts are the aggregate of the real
``account_segments.csv`` (no row of it is stored here), so the simulator never
needs ``../shared`` at run time.
"""
from __future__ import annotations

# --- calendar --------------------------------------------------------------
MONTHS = ("2020-08", "2020-09", "2020-10", "2020-11", "2020-12", "2021-01")
TRACKING_CHANGE_MONTH_INDEX = 4  # transition 2020-12 -> 2021-01 reveals untracked custom integrations

# --- segments and sizes (raw labels as in the real file) -------------------
SEGMENT_SIZE_COUNTS = {
    "1 to 25": {
        "International Direct": 4281, "International High-touch": 17, "International Low-touch": 5230,
        "International Partner": 1577, "NAM Direct": 2053, "NAM High-touch": 1334,
        "NAM Low-Touch": 13476, "NAM Partner": 2172, "NAM Unowned": 1562,
    },
    "201 or Above": {
        "International Direct": 1089, "International High-touch": 96, "International Low-touch": 415,
        "International Partner": 579, "NAM Direct": 1491, "NAM High-touch": 891,
        "NAM Low-Touch": 2087, "NAM Partner": 387, "NAM Unowned": 244,
    },
    "26 to 200": {
        "International Direct": 3180, "International High-touch": 45, "International Low-touch": 1859,
        "International Partner": 1322, "NAM Direct": 3512, "NAM High-touch": 1800,
        "NAM Low-Touch": 7019, "NAM Partner": 1852, "NAM Unowned": 622,
    },
    "Undefined": {
        "International Direct": 582, "International High-touch": 2, "International Low-touch": 410,
        "International Partner": 481, "NAM Direct": 80, "NAM High-touch": 337,
        "NAM Low-Touch": 1204, "NAM Partner": 352, "NAM Unowned": 242,
    },
}
EMPLOYEE_SIZES = ("1 to 25", "26 to 200", "201 or Above", "Undefined")
SIZE_SCALE = {"1 to 25": -0.45, "26 to 200": 0.15, "201 or Above": 0.75, "Undefined": -0.2}
TEAMS = ("Low-touch", "High-touch", "Direct", "Partner", "Unowned")


def canonical_segment(raw_label: str) -> str:
    """``NAM Low-Touch`` -> ``NAM Low-touch``: the project's canonical segment label."""
    return raw_label.replace("-Touch", "-touch")


def split_segment(canonical_label: str) -> tuple[str, str]:
    """``NAM Low-touch`` -> (``NAM``, ``Low-touch``)."""
    region, team = canonical_label.split(" ", 1)
    return region, team


# --- customer IDs ------------------------------------------------------------
# Length of CUSTOMER_ID in the real account_segments.csv (leading zeros lost for some).
ID_LENGTH_COUNTS = {9: 53678, 8: 9171, 7: 1004, 6: 16, 5: 12, 4: 1}
ZERO_LED_KEPT_SHARE = 0.02  # share of 9-character IDs that keep leading zeros (like H00041533)

# --- tiers -----------------------------------------------------------------
TIERS = ("Free", "Starter", "Basic", "Pro", "Enterprise")  # index == rank
FREE, STARTER, BASIC, PRO, ENTERPRISE = range(5)

# --- marketplace catalogue (integer IDs), popularity weights -----------------
# The most common IDs of the real 2021-01 file come first, in their order.
POPULAR_MARKETPLACE_IDS = (1, 21, 10, 7, 12, 8, 9, 14, 11)
POPULAR_WEIGHTS = (30.0, 12.0, 6.0, 4.8, 4.5, 2.6, 2.4, 2.1, 1.3)
CATALOGUE_SIZE = 150  # IDs 1..150; no customer comes close to holding them all
TAIL_WEIGHT_TOTAL = 14.0  # popularity mass of all other IDs together
