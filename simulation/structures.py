"""Organizational structures: departments' roles and their links.

A structure is data, never a branch in the mechanics: a link graph between departments and
a set of lever values. ``inside_out`` and ``outside_in`` are the two poles of Gulati's argument;
any lever mix on either graph is a legal organization, and the mechanics read only the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from simulation.errors import ParameterError
from simulation.params import FirmSpec, ModelParams, check_levers
from simulation.presets import LEVERS, PRESETS, other_preset

ROLES: tuple[str, ...] = ("sales", "marketing", "service", "product", "operations", "finance")
"""Department roles; a firm of more than six departments has a team of these six per six
departments (see :func:`roles_for`)."""

INTERLEAVED: tuple[str, ...] = ("sales", "product", "marketing", "operations", "service",
                                "finance")
"""The order in which the departments of a partial team are filled, customer-facing and
internal roles by turns, so that any number of departments keeps the role mix (half
customer-facing, within rounding) and a firm of two has a seller and a maker."""

CUSTOMER_FACING: frozenset[str] = frozenset({"sales", "marketing", "service"})
"""Roles that meet customers and so can sense their needs directly."""

EXTERNAL: frozenset[str] = frozenset({"sales", "marketing", "product"})
"""Roles that hold the firm's external partnerships (the *connections* lever's channel)."""

SILO_OBJECTIVE: Mapping[str, str] = {
    # Seed 000: firms "begin with a set of products they want to sell" -> sell what we have.
    "sales": "habit",
    "marketing": "habit",
    # Seed 003: "That's how we do things here - that's our procedure."
    "service": "habit",
    # Product push: R&D follows its own technology roadmap.
    "product": "roadmap",
    # Seed 003: standardization promotes reliability and reduces costs.
    "operations": "habit",
    "finance": "habit",
}
"""What each role pursues when it puts its silo first (the opposite of *cooperation*).

``habit``: the offering as the firm has been making it (it follows the firm's own offering
with a lag of ``silo_lag`` months: inertia; standardization's savings are counted by
``variety_cost``); ``roadmap``: the habit pushed on performance by R&D's technology roadmap
(product push). Neither is a founding design that anchors a firm forever: both follow what the
firm does.
"""

FUNCTION_OF_ROLE: Mapping[str, str] = {
    "sales": "commercial", "marketing": "commercial", "service": "commercial",
    "product": "technical", "operations": "technical", "finance": "control",
}

INTERNAL_OWNER: tuple[str, ...] = ("product", "operations", "finance", "finance")
"""The internal department that holds the internal share of the decision rights over each
component of the offering, by attribute (performance, reliability, convenience, service; a
fifth attribute on takes the list again): R&D decides the product's performance, operations
its reliability, and the channel and service are budgets the controller signs (seed 000: in a
functional organization power sits with product and the functional heads). A firm without
that role gives the rights to the role's function, and without that to every internal
department."""

FAVOURS_ANSWER: frozenset[str] = frozenset({"sales", "marketing", "service"})
"""Roles whose silo objective favours answering a low-end disruptor with a cheaper offer
(sellers want volume); R&D (its roadmap), operations (its standard) and finance (its margin)
would rather not."""


def roles_for(n: int) -> tuple[str, ...]:
    """Roles of a firm's ``n`` departments, the same mix at any size.

    A team of :data:`ROLES` per six departments; the rest filled in the order of
    :data:`INTERLEAVED`.
    """
    full, rest = divmod(n, len(ROLES))
    return ROLES * full + INTERLEAVED[:rest]


def internal_owners(roles: tuple[str, ...], dimensions: int) -> np.ndarray:
    """(n, D) which departments hold the internal share of the rights over each component.

    Each column marks the departments of the component's :data:`INTERNAL_OWNER` role, else of
    that role's function, else every internal department (none if the firm has none).
    """
    owners = np.zeros((len(roles), dimensions), dtype=bool)
    for d in range(dimensions):
        owners[:, d] = _owners_of(roles, INTERNAL_OWNER[d % len(INTERNAL_OWNER)])
    return owners


BUDGET_OWNER = "finance"
"""The internal department that holds the internal share of the rights over price and cost."""


def budget_owners(roles: tuple[str, ...]) -> np.ndarray:
    """(n,) which departments hold the internal share of the rights over price and cost.

    Finance's, else the control function's, else every internal department's (as for a
    component: :func:`internal_owners`).
    """
    return _owners_of(roles, BUDGET_OWNER)


def _owners_of(roles: tuple[str, ...], owner: str) -> np.ndarray:
    # The departments of the owner role, else of its function, else every internal one.
    column = np.array([r == owner for r in roles])
    if not column.any():
        column = np.array([FUNCTION_OF_ROLE[r] == FUNCTION_OF_ROLE[owner] for r in roles])
    if not column.any():
        column = np.array([r not in CUSTOMER_FACING for r in roles])
    return column


def component_partners(dimensions: int) -> np.ndarray:
    """(D,) the component each component's change depends on (interdependence).

    A change in a product's performance needs operations to make it reliably, and the
    reverse; a new channel (convenience) needs service to support it, and the reverse: so
    attributes pair up (0 with 1, 2 with 3, ...); an odd last attribute depends on the one
    before it.
    """
    partner = np.arange(dimensions) ^ 1
    return np.where(partner < dimensions, partner, dimensions - 2)


def functional_hierarchy(roles: tuple[str, ...]) -> np.ndarray:
    """Links of a functional organization: silos joined only through their heads.

    Departments talk freely inside their function; across functions, information goes up to
    the function's head, through the controlling function (finance) and down again, so news
    from customers reaches product development in three hops (the delay of a hierarchy).
    """
    n = len(roles)
    links = np.zeros((n, n))
    functions = [FUNCTION_OF_ROLE[r] for r in roles]
    heads: dict[str, int] = {}
    for i, f in enumerate(functions):
        heads.setdefault(f, i)
        for j in range(i):
            if functions[j] == f:
                links[i, j] = links[j, i] = 1.0
    control = heads.get("control")
    for f, head in heads.items():
        if control is not None and f != "control":
            links[head, control] = links[control, head] = 1.0
    if control is None and {"commercial", "technical"} <= heads.keys():
        links[heads["commercial"], heads["technical"]] = 1.0
        links[heads["technical"], heads["commercial"]] = 1.0
    return links


def segment_teams(roles: tuple[str, ...]) -> np.ndarray:
    """Links of an outside-in organization: cross-functional customer teams.

    Every run of six consecutive departments forms a team in which everyone talks to everyone
    (Best Buy's cross-functional segment units); customer-facing people also talk across teams,
    so what one team learns about customers reaches the others in one hop.
    """
    n = len(roles)
    links = np.zeros((n, n))
    team = np.arange(n) // len(ROLES)
    facing = np.array([r in CUSTOMER_FACING for r in roles])
    links[team[:, None] == team[None, :]] = 1.0
    links[np.outer(facing, facing)] = 1.0
    np.fill_diagonal(links, 0.0)
    return links


LINK_BUILDERS: Mapping[str, Callable[[tuple[str, ...]], np.ndarray]] = {
    "functional_hierarchy": functional_hierarchy,
    "segment_teams": segment_teams,
}


def reorganization_target(levers: Mapping[str, float], structure: str,
                          to: str | Mapping[str, float] | None
                          ) -> tuple[dict[str, float], str]:
    """The levers and structure a firm of ``levers`` and ``structure`` reorganizes to.

    ``to`` is a preset's name (its levers and links), lever values (over the firm's own, its
    links kept) or None (the other preset). The one rule, for the model and the handout.

    Raises:
        ParameterError: ``to`` names no preset or sets a lever out of range.

    """
    if to is None:
        to = other_preset(structure)
    if isinstance(to, str):
        if to not in PRESETS:
            raise ParameterError("reorganize_to", f"{to!r} is not one of {sorted(PRESETS)}")
        return PRESETS[to].lever_values(), to
    check_levers("reorganize_to", to)
    return {**levers, **to}, structure


FIRM_KEYWORDS: tuple[str, ...] = ("firms", "structure", "price", "rivals", "rival_structure",
                                  "rival_price", *LEVERS)
"""The keywords that say which incumbents compete (see :func:`incumbent_specs`)."""


def incumbent_specs(p: ModelParams) -> list[FirmSpec]:
    """The incumbents a model of ``p`` starts with, focal first (the one rule for it).

    Listed ``firms`` as given, or a focal firm of ``structure`` (outside-in by default) and
    ``rivals`` of ``rival_structure`` (the other preset by default); ``structure`` and the
    lever keywords then apply to the focal firm.

    Raises:
        ParameterError: two firms share a name.

    """
    if p.firms is not None:  # price, rivals, ... with firms are refused by ModelParams
        specs = list(p.firms)
        if p.structure is not None and p.structure != specs[0].structure:
            specs[0] = FirmSpec(specs[0].name, p.structure, {}, specs[0].price, specs[0].cash)
    else:
        focal = p.structure or "outside_in"
        rival = p.rival_structure or other_preset(focal)
        specs = [FirmSpec("focal", focal, {}, p.price)]
        specs += [FirmSpec(f"rival-{i + 1}" if p.rivals > 1 else "rival", rival, {},
                           p.rival_price) for i in range(p.rivals)]
    overrides = {k: getattr(p, k) for k in LEVERS if getattr(p, k) is not None}
    if overrides:
        first = specs[0]
        specs[0] = FirmSpec(first.name, first.structure, {**first.levers, **overrides},
                            first.price, first.cash)
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ParameterError("firms", f"firm names must differ, got {names}")
    return specs


def with_listed_firms(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The same model keywords with every incumbent a listed firm (``firms``, focal first).

    The focal firm's preset, levers and price and the rivals' number, preset and price move
    into the firms' specs, made as the model makes them (:func:`incumbent_specs`), so
    ``firms`` alone says who competes and one firm can be changed in place.

    Raises:
        ParameterError: a keyword is unknown or out of range.

    """
    params = ModelParams.from_kwargs(**{k: v for k, v in kwargs.items() if k != "rng"})
    listed = {k: v for k, v in kwargs.items() if k not in FIRM_KEYWORDS}
    listed["firms"] = tuple(incumbent_specs(params))
    return listed
