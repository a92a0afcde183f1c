"""The five levers, each acting through mechanisms defined here and nowhere else.

Gulati (seed 000): coordination aligns tasks and information on a customer axis; cooperation
aligns goals across silos; clout puts power with the customer-facing people; capability builds
organization-spanning skills; connections bring in external partners. Each function below is
the one place where a lever's value turns into behaviour, so a reader can check the model's
claims against the text lever by lever. Every lever also has an upkeep (:func:`upkeep`):
outside-in is not free; and a reorganization disrupts the levers while it lasts
(:func:`disrupted`).

Functions take a lever's value for one firm or an array of them (one per firm or per
department) and return the same kind; the behavioural constants they need are model
parameters (:mod:`simulation.params`), passed in by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simulation.params import LEVERS

DISRUPTED_LEVERS: tuple[str, ...] = ("coordination", "cooperation", "clout", "capability")
"""Levers a reorganization disrupts while it lasts: people re-forming teams share less
(coordination), fall back on their silo's goals (cooperation), fight over who decides (clout)
and lose routines (capability). Partnerships outside (connections) run on."""

REFERENCE_DEPARTMENTS = 6
"""Upkeep is stated for a firm of six departments and scales with their number."""


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
    if n == 0:
        return
    rate = np.asarray(coordination, dtype=float)
    if rate.ndim == 0:
        rate = np.full(n, float(rate))
    if not rate.any():
        return
    total = links @ freshness                                      # (n, S) fresh news heard
    heard = (links @ (freshness[:, :, None] * knowledge).reshape(n, knowledge[0].size)).reshape(
        knowledge.shape)
    knowledge += (rate[:, None] / (total + freshness + 1e-12))[:, :, None] * (
        heard - total[:, :, None] * knowledge)
    # (the maximum over neighbours taken along the last, contiguous axis: the same numbers)
    relayed = np.maximum.reduce(links[:, None, :] * np.ascontiguousarray(freshness.T)[None, :, :],
                                axis=2)
    np.maximum(freshness, 0.9 * rate[:, None] * relayed, out=freshness)


def coordination_lean(coordination: np.ndarray, customer_facing: np.ndarray) -> np.ndarray:
    """Coordination: how far a department's picture of customers leans toward its silo's view.

    Far from customers, an internal department sees them through its own function (seed 000:
    firms "begin with a set of products they want to sell"): it believes customers want
    what its silo makes or plans, by ``1 - coordination`` (coordination aligns information on
    a customer axis). Customer-facing departments see customers as they are.
    """
    return np.where(customer_facing, 0.0, 1.0 - coordination)


def cooperation_blend(cooperation: float | np.ndarray, customer_pull: np.ndarray,
                      silo_pull: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cooperation: how much departments pursue the customer outcome over their silo's.

    Each department pulls the offering ``cooperation`` of the way toward what it believes
    customers need and the rest toward its silo's objective; the pulls are linear, so this
    applies equally to one department's pull or to the clout-weighted pull of a firm.

    Returns:
        The customer part and the silo part of the pull, kept apart because only the
        customer part needs the firm's capability to be carried out (:func:`capability_step`).

    """
    return cooperation * customer_pull, (1.0 - cooperation) * silo_pull


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


def effective_capability[Value: (float, np.ndarray)](capability: Value, connections: Value,
                                                     borrowed: float) -> Value:
    """Capability, plus what partners lend: ``borrowed`` of the missing part at full connections."""
    return capability + borrowed * connections * (1.0 - capability)


def capability_noise[Value: (float, np.ndarray)](sense_noise: float, capability: Value) -> Value:
    """Capability: skilled people read customer signals with less noise."""
    return sense_noise * (1.0 - 0.8 * capability)


def capability_gain[Value: (float, np.ndarray)](belief_gain: float, capability: Value) -> Value:
    """Capability: how much weight a fresh signal gets against what was believed before.

    An unskilled department takes each signal nearly at face value and so chases noise; a
    skilled one averages over more signals (it can afford to, because it also projects its
    belief along the trend it has learned: :func:`capability_trend_skill`).
    """
    return belief_gain * (1.0 - 0.6 * capability)


def capability_trend_skill[Value: (float, np.ndarray)](capability: Value) -> Value:
    """Capability: how well a department reads, and projects, the direction of change (seed 002)."""
    return capability


def capability_reach[Value: (float, np.ndarray)](capability: Value) -> Value:
    """Capability: the chance per month of hearing a segment one does not yet serve.

    Prospecting beyond current customers (seed 003) is a skill; without it a firm hears only
    the customers it already has.
    """
    return 0.5 * capability


def capability_step[Value: (float, np.ndarray)](max_change: float, capability: Value) -> Value:
    """Capability: how far the firm can move an offering toward customers in a month.

    Changing what the firm offers for customers' sake needs organization-spanning skills
    (seed 000: "so managers don't fall back on their own silo-protecting skills"); the pull of
    the silos (habit, standard, roadmap) is routine and needs none. So the customer part of a
    move is bounded by capability, and capability is worth most where clout and cooperation
    make that part large.
    """
    return max_change * (0.25 + 0.75 * capability)


def capability_horizon[Value: (float, np.ndarray)](anticipation_months: float,
                                                   capability: Value) -> Value:
    """Capability: how many months ahead the firm anticipates the trend of needs (seed 002)."""
    return anticipation_months * capability


def capability_filter[Value: (float, np.ndarray)](noise_filter: float, capability: Value) -> Value:
    """Capability: the threshold, in s.d. of its own noise, below which a firm does not move.

    Telling signal from noise is a skill: a capable firm moves only when the gap it believes in
    is larger than what its own noise would produce, and so does not pay to chase noise; a firm
    without the skill moves on every difference it perceives.
    """
    return noise_filter * capability


def capability_execution[Value: (float, np.ndarray)](execution_noise: float,
                                                     capability: Value) -> Value:
    """Capability: the relative error with which a decided change is carried out."""
    return execution_noise * (1.0 - capability)


def connections_signal_chance[Value: (float, np.ndarray)](connections: Value) -> Value:
    """Connections: the chance per month that partners report on every segment."""
    return connections


def connections_noise[Value: (float, np.ndarray)](sense_noise: float, connections: Value) -> Value:
    """Connections: the noise of partners' reports (market research, allies)."""
    return sense_noise * (1.2 - 0.8 * connections)


def belief_noise[Value: (float, np.ndarray)](signal_noise: Value, gain: Value) -> Value:
    """The s.d. of a belief that averages signals of s.d. ``signal_noise`` with ``gain``.

    The stationary s.d. of an exponentially weighted average of white noise; a firm knows its
    own noise this well, and :func:`capability_filter` sets how much of it the firm ignores.
    """
    return signal_noise * np.sqrt(gain / (2.0 - gain))


def disrupted(levers: np.ndarray, disruption: np.ndarray) -> np.ndarray:
    """(F, 5) the levers as they act during a reorganization that is ``disruption`` under way.

    Each of :data:`DISRUPTED_LEVERS` loses ``disruption`` of its value (people are busy
    re-forming teams); connections do not.
    """
    hit = np.array([name in DISRUPTED_LEVERS for name in LEVERS])
    return levers * np.where(hit[None, :], 1.0 - disruption[:, None], 1.0)


def transition_loyalty(loyalty: float, disruption: np.ndarray) -> np.ndarray:
    """(F,) the loyalty bonus of each firm's customers while it reorganizes.

    Customers stay partly for the people they know; a reorganization moves those people,
    and the bond weakens with the disruption (it returns as the new teams settle).
    """
    return loyalty * (1.0 - disruption)


def transition_error(max_change: float, disruption: np.ndarray) -> np.ndarray:
    """(F,) s.d. of the monthly error in what a firm in transition delivers, per attribute.

    People in new roles, with new hand-offs, make mistakes customers feel: while a
    reorganization is under way the offering slips by up to ``max_change`` a month at the
    worst of the disruption, whatever the firm decides.
    """
    return max_change * disruption


def followable_speed(params: Any, levers: Mapping[str, float]) -> float:
    """The fastest lasting trend (distance per month) a firm with ``levers`` can follow.

    Tracking a trend of speed ``v``, the customer part of the move must cover ``v`` plus the
    silos' resistance: the habit lags the offering by about ``v * silo_lag``, and pulls back
    with weight ``1 - cooperation``; the customer part is at most :func:`capability_step`.
    So ``v* = step / (1 + (1 - cooperation) * silo_lag)``. With momentum below 1 the trend
    turns before the lag builds up, and a firm survives somewhat faster change (measured in
    the regime map of ``docs/ODD.md``).
    """
    cap = effective_capability(levers["capability"], levers["connections"],
                               params.borrowed_capability)
    step = capability_step(params.max_change, cap)
    return float(step / (1.0 + (1.0 - levers["cooperation"]) * params.silo_lag))


def upkeep(levers: Mapping[str, Any], lever_cost: float,
           departments: Any = REFERENCE_DEPARTMENTS) -> Any:
    """Monthly upkeep of the levers, as a share of fair-share revenue.

    Meetings, cross-functional teams, training and partner fees all cost money, in proportion
    to how far each lever is pushed and to the number of departments that take part (it is
    stated for :data:`REFERENCE_DEPARTMENTS`).
    """
    return lever_cost * sum(levers[name] for name in LEVERS) * departments / REFERENCE_DEPARTMENTS
