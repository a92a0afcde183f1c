"""The published values the docking studies are checked against, with where they come from.

Data only: the targets (:mod:`experiments.docking.studies`) and the figures
(:mod:`experiments.docking.figures`) read them here.
"""

from __future__ import annotations

NK_N = 10
"""N of the NK study's landscapes."""

MARCH_1991 = "March (1991), Fig. 1"
RECREATION = ("public re-creation of March's program (Workiewicz 2019, after Rodan 2005 and "
              "Christensen 2015), 10,000 runs per cell")
KAUFFMAN = "Kauffman (1993), ch. 2; Kauffman and Levin (1987)"
LEVINTHAL = "Levinthal (1997); Kauffman (1993)"

RECREATION_TABLE: dict[float, tuple[float, ...]] = {
    0.1: (0.8633, 0.8171, 0.8051, 0.8021, 0.7994, 0.8032, 0.8060, 0.8090, 0.8132),
    0.5: (0.9543, 0.9088, 0.8691, 0.8371, 0.8106, 0.7867, 0.7679, 0.7540, 0.7421),
    0.9: (0.9724, 0.9404, 0.9081, 0.8737, 0.8401, 0.8067, 0.7796, 0.7561, 0.7284),
}
"""The re-creation's equilibrium knowledge by p2, at p1 = 0.1, 0.2, ..., 0.9 (its published
table, rounded to 4 places). The figure draws it beside the measured curves."""

RECREATED = {(0.9, 0.1): 0.97, (0.9, 0.9): 0.73, (0.1, 0.1): 0.86}
"""The levels the targets check, at (p2, p1): the re-creation's values as the issue quotes
them (its table, rounded to two places)."""


def expected_peaks_random(n: int) -> float:
    """Expected local optima of a fully random landscape (K = N - 1): 2^N / (N + 1).

    Each configuration is a peak when it is the best of itself and its N neighbours, N + 1
    exchangeable values: probability 1 / (N + 1).
    """
    return 2**n / (n + 1)
