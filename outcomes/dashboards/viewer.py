"""Who is looking: which sites are theirs, what of a registry-wide result they may see.

Roles come from `registry.permissions`, visibility from `outcomes.selectors.scope_for`
(which asks `registry.selectors.patients_visible_to`): nothing is decided here that those
two already decide. What this adds is the benchmarking etiquette of the issue: a
coordinator sees the sites they may see named; a surgeon sees their own site and own
point highlighted and other surgeons unnamed; a site administrator sees the surgeons of
their site named; other sites are unnamed, and their points arrive small-cell
suppressed (`results.shown`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from outcomes.dashboards.results import Funnel
from outcomes.selectors import Scope, scope_for
from outcomes.suppression import minimum_cell_count
from registry import permissions
from registry.models import Role, Site


@dataclass
class Viewer:
    user: AbstractBaseUser
    scope: Scope  # the sites whose patients the viewer may see
    registry: Scope  # every site
    roles: dict[int, str]
    site_names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, user: AbstractBaseUser) -> Viewer:
        sites = dict(Site.objects.values_list("pk", "name"))
        return cls(
            user=user,
            scope=scope_for(user=user),
            registry=Scope.of(sites),
            roles=permissions.roles_of(user),
            site_names=sites,
        )

    @property
    def sees_everything(self) -> bool:
        return self.scope.covers(self.registry.site_ids)

    @property
    def wants_reference(self) -> bool:
        """A viewer who does not see every site gets the registry-wide value beside theirs."""
        return bool(self.scope.site_ids) and not self.sees_everything

    def own_sites(self) -> set[int]:
        """Sites where the viewer treats patients or administers (not merely reads)."""
        return {
            site for site, role in self.roles.items() if role in (Role.SURGEON, Role.SITE_ADMIN)
        }

    def label_funnel(self, funnel: Funnel) -> Funnel:
        """Name, highlight, drop or withhold each unit for this viewer (in place)."""
        own_sites = self.own_sites()
        admin_sites = {s for s, r in self.roles.items() if r == Role.SITE_ADMIN}
        surgeon_ids = {u.surgeon_id for u in funnel.units if u.surgeon_id is not None}
        names = _user_names(surgeon_ids & _colleague_ids(admin_sites, funnel))
        kept, others = [], []
        for unit in funnel.units:
            if unit.level == "surgeon":
                if unit.site_id not in own_sites:
                    continue  # surgeons are compared within the viewer's own site only
                mine = unit.surgeon_id == self.user.pk
                unit.own = mine
                if mine:
                    unit.name = "You"
                elif unit.site_id in admin_sites:
                    unit.name = names.get(unit.surgeon_id, f"Surgeon {unit.surgeon_id}")
                else:
                    unit.name = "Another surgeon of your site"
                kept.append(unit)
            elif unit.site_id in self.scope.site_ids:
                unit.name = self.site_names.get(unit.site_id, f"Site {unit.site_id}")
                unit.own = unit.site_id in own_sites
                kept.append(unit)
            else:
                unit.name = "Another site"
                others.append(unit)
        funnel.withheld = sum(unit.withheld for unit in others)
        funnel.units = kept + others
        if funnel.withheld == 1:
            # One withheld site and no second to withhold with it: the registry total minus
            # what is shown would give it back, so the plot is not shown at all.
            funnel.blocked = (
                "Not shown: it would reveal a small cell (fewer than "
                f"{minimum_cell_count()} events or non-events) of another site."
            )
        return funnel


def _colleague_ids(admin_sites: set[int], funnel: Funnel) -> set[int]:
    return {u.surgeon_id for u in funnel.units if u.level == "surgeon" and u.site_id in admin_sites}


def _user_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=ids)
    return {user.pk: user.get_full_name() or user.get_username() for user in users}
