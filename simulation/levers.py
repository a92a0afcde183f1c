"""The five levers, each acting through one mechanism defined here and nowhere else.

Gulati (seed 000): coordination aligns tasks and information on a customer axis; cooperation
aligns goals across silos; clout puts power with the customer-facing people; capability builds
organization-spanning skills; connections bring in external partners. Each function below is
the one place where a lever's value turns into behaviour, so a reader can check the model's
claims against the text lever by lever. Every lever also has an upkeep (:func:`upkeep`):
outside-in is not free.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simulation.params import LEVERS

# Functions below take a lever's value for one firm or an array of them (one per firm or per
# department), and return the same kind.
BORROWED_CAPABILITY = 0.3
"""Share of the missing capability that partners can lend at full connections."""

ANTICIPATION_MONTHS = 4.0
"""How far ahead a fully capable firm extrapolates the direction in which needs move."""


def coordination_share(coordination: float | np.ndarray, links: np.ndarray,
                       freshness: np.ndarray, knowledge: np.ndarray) -> None:
    """Coordination: what departments know flows along the structure's links (in place).

    Each department moves toward what its better-informed neighbours believe, weighted by how
    fresh their knowledge is, by a fraction ``coordination`` per month. Freshness travels too,
    with a loss per hop, so a long functional chain delays and dilutes news from customers.

    Args:
        coordination: lever value in [0, 1], or one per department (its firm's).
        links: (n, n) link weights between departments.
        freshness: (n, S) how recent each department's knowledge of each segment is, in [0, 1].
        knowledge: (n, S, X) what each department believes about each segment (its needs and
            the direction in which they move).

    """
    n = links.shape[0]
    rate = np.asarray(coordination, dtype=float)
    if rate.ndim == 0:
        rate = np.full(n, float(rate))
    if not rate.any():
        return
    total = links @ freshness                                      # (n, S) fresh news heard
    heard = (links @ (freshness[:, :, None] * knowledge).reshape(n, -1)).reshape(
        knowledge.shape)
    knowledge += (rate[:, None] / (total + freshness + 1e-12))[:, :, None] * (
        heard - total[:, :, None] * knowledge)
    relayed = (links[:, :, None] * freshness[None, :, :]).max(axis=1, initial=0.0)
    np.maximum(freshness, 0.9 * rate[:, None] * relayed, out=freshness)


def cooperation_blend[Value: (float, np.ndarray)](cooperation: Value, customer_pull: np.ndarray,
                      silo_pull: np.ndarray) -> np.ndarray:
    """Cooperation: how much departments pursue the customer outcome over their silo's.

    Each department pulls the offering ``cooperation`` of the way toward what it believes
    customers need and the rest toward its silo's objective; the pulls are linear, so this
    applies equally to one department's pull or to the clout-weighted pull of a firm.
    """
    return cooperation * customer_pull + (1.0 - cooperation) * silo_pull


def clout_weights(clout: np.ndarray, customer_facing: np.ndarray, n_facing: np.ndarray,
                  n_internal: np.ndarray) -> np.ndarray:
    """Clout: the weight each department's proposal carries in its firm's decision.

    Customer-facing departments share ``clout`` of the power, internal ones the rest, equally
    within each group; a firm with no department of a group gives equal weights to all.

    Args:
        clout: each department's firm's clout lever.
        customer_facing: whether each department is customer-facing.
        n_facing: the number of customer-facing departments in each department's firm.
        n_internal: the number of internal departments in each department's firm.

    Returns:
        Weights that sum to one within each firm.

    """
    both = (n_facing > 0) & (n_internal > 0)
    grouped = np.where(customer_facing, clout / np.maximum(n_facing, 1),
                       (1.0 - clout) / np.maximum(n_internal, 1))
    return np.where(both, grouped, 1.0 / (n_facing + n_internal))


def effective_capability[Value: (float, np.ndarray)](capability: Value,
                                                     connections: Value) -> Value:
    """Capability, plus what partners lend (the borrowed part of *connections*)."""
    return capability + BORROWED_CAPABILITY * connections * (1.0 - capability)


def capability_noise[Value: (float, np.ndarray)](sense_noise: float, capability: Value) -> Value:
    """Capability: skilled people read customer signals with less noise."""
    return sense_noise * (1.0 - 0.8 * capability)


def capability_reach[Value: (float, np.ndarray)](capability: Value) -> Value:
    """Capability: the chance per month of hearing a segment one does not yet serve.

    Prospecting beyond current customers (seed 003) is a skill; without it a firm hears only
    the customers it already has.
    """
    return 0.5 * capability


def capability_step[Value: (float, np.ndarray)](max_change: float, capability: Value) -> Value:
    """Capability: how far the firm can move an offering in a month."""
    return max_change * (0.25 + 0.75 * capability)


def capability_horizon[Value: (float, np.ndarray)](capability: Value) -> Value:
    """Capability: how many months ahead the firm anticipates the drift of needs (seed 002)."""
    return ANTICIPATION_MONTHS * capability


def connections_signal_chance[Value: (float, np.ndarray)](connections: Value) -> Value:
    """Connections: the chance per month that partners report on every segment."""
    return connections


def connections_noise[Value: (float, np.ndarray)](sense_noise: float, connections: Value) -> Value:
    """Connections: the noise of partners' reports (market research, allies)."""
    return sense_noise * (1.2 - 0.8 * connections)


def upkeep(levers: Mapping[str, Any], lever_cost: float) -> Any:
    """Monthly upkeep of the levers, as a share of fair-share revenue.

    Meetings, cross-functional teams, training and partner fees all cost money, in proportion
    to how far each lever is pushed.
    """
    return lever_cost * sum(levers[name] for name in LEVERS)
