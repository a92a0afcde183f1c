"""Docking: classic organizational models on this project's experiment engine.

March (1991) and the NK landscape (Kauffman 1993; Levinthal 1997) as Mesa models
(:mod:`~experiments.docking.march`, :mod:`~experiments.docking.nk`), run as sweeps like any
other and checked against their published results (:mod:`~experiments.docking.studies`).
``outsidein dock`` is the command; ``docs/docking.md`` the account.
"""
