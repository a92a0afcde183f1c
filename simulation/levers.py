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


def relay_alarm(coordination: np.ndarray, links: np.ndarray, alarm: np.ndarray) -> None:
    """Coordination: news of a disruptor travels one link a month, with a loss per hop (in place).

    A department that has not heard of the threat takes the strongest alarm among its
    neighbours, scaled by ``0.9 * coordination`` (the same per-hop loss as customer news), so
    in a functional hierarchy the news reaches R&D later and weaker than in segment teams.
    """
    if alarm.size == 0 or not alarm.any():
        return
    relayed = np.max(links * alarm[None, :], axis=1)
    np.maximum(alarm, 0.9 * coordination * relayed, out=alarm)


def cooperation_proposal(cooperation: float | np.ndarray, to_customers: np.ndarray,
                         to_silo: np.ndarray) -> np.ndarray:
    """Cooperation: the change a department proposes (or would accept) for each component.

    It weighs the firm's customer outcome (the change toward what it believes customers
    need) by ``cooperation`` and its silo's objective (the change toward its habit or
    roadmap) by the rest (seed 000: cooperation aligns goals across silos).
    """
    return cooperation * to_customers + (1.0 - cooperation) * to_silo


def clout_rights(clout: np.ndarray, customer_facing: np.ndarray, owners: np.ndarray,
                 member: np.ndarray) -> np.ndarray:
    """Clout: each department's share of the decision rights over each component.

    The customer-facing departments of a firm share ``clout`` of the rights over every
    component equally; the departments that own a component inside (R&D for performance,
    operations for reliability, finance for the budgets of channel and service:
    ``structures.INTERNAL_OWNER``) share the rest. A firm with no department of one group
    gives all rights to the other.

    Args:
        clout: (K,) each department's firm's clout lever.
        customer_facing: (K,) whether each department is customer-facing.
        owners: (K, D) whether each department owns each component inside.
        member: (F, K) which firm each department belongs to (0/1).

    Returns:
        (K, D) rights that sum to one over each firm's departments, per component.

    """
    firm = member.argmax(axis=0)
    n_facing = (member @ customer_facing)[firm]                                  # (K,)
    n_owners = (member @ owners)[firm]                                          # (K, D)
    facing = customer_facing[:, None]
    share = np.where(facing, (clout / np.maximum(n_facing, 1))[:, None],
                     owners * ((1.0 - clout)[:, None] / np.maximum(n_owners, 1)))
    alone_facing = (n_owners == 0)                      # no internal owner: facing decide
    alone_internal = (n_facing == 0)[:, None]           # no customer-facing department
    share = np.where(alone_facing, np.where(facing, 1.0 / np.maximum(n_facing, 1)[:, None],
                                            0.0), share)
    share = np.where(alone_internal & ~alone_facing,
                     owners / np.maximum(n_owners, 1), share)
    return share


def acceptance(proposal: np.ndarray, decided: np.ndarray) -> np.ndarray:
    """How much of a decided change a department is willing to do its part of, in [0, 1].

    The part of the decided change (per component and segment) that its own proposal covers:
    1 if it wants at least as much in the same direction, 0 if it wants none or the opposite.
    Nothing to do is accepted.
    """
    moving = np.abs(decided) > 1e-12
    ratio = np.divide(proposal, decided, out=np.ones_like(decided), where=moving)
    return np.clip(ratio, 0.0, 1.0)


def interdependent_move(decided: np.ndarray, partner_acceptance: np.ndarray,
                        interdependence: float) -> np.ndarray:
    """The part of a decided change that is carried out, given its partner component's owners.

    A component's change needs the work of those who hold the rights over its partner
    component (``structures.component_partners``): ``interdependence`` of it is done only as
    far as they accept it, the rest regardless (an NK-style coupling of two components).
    """
    return decided * (1.0 - interdependence + interdependence * partner_acceptance)


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


def upkeep(levers: Mapping[str, Any], lever_cost: float) -> Any:
    """Monthly upkeep of the levers, as a share of fair-share revenue.

    Meetings, cross-functional teams, training and partner fees all cost money, in proportion
    to how far each lever is pushed and to the size of the business (its fair share of the
    market's revenue; a disruptor's is scaled by the capacity it has built), not to the number
    of departments it is drawn as: departments are the model's resolution, not its size.
    """
    return lever_cost * sum(levers[name] for name in LEVERS)


def answer_support(rights: np.ndarray, alarm: np.ndarray, cooperation: np.ndarray,
                   favours: np.ndarray, member: np.ndarray) -> np.ndarray:
    """(F,) the share of the decision rights over price and cost that backs a low-cost answer.

    A department backs an answer to a disruptor only as far as it has heard of the threat
    (``alarm``, carried by coordination); then by its cooperation (the firm's customers) plus,
    for the rest, what its silo wants (sellers want a cheaper offer: ``favours``; R&D,
    operations and finance would rather keep their roadmap, standard and margin). Who counts
    is who holds the rights (clout: the customer-facing departments' share, the controller's
    the rest).
    """
    will = cooperation + (1.0 - cooperation) * favours
    return member @ (rights * alarm * will)


def answer_cut(answer_rate: float, capability: np.ndarray, unit_cost: np.ndarray,
               cost_floor: float) -> np.ndarray:
    """(F,) this month's fall of the unit cost under a low-cost programme (capability executes)."""
    return answer_rate * capability * np.maximum(unit_cost - cost_floor, 0.0)
