"""Who may see and do what, per trial and site, from the user's memberships.

A user's role is held per trial (``Membership``), for every site of the trial or
for one. Patient data of a trial the user is not a member of answers 404; a
member whose role there does not allow the action gets 403. Superusers see
everything. Queries of patient data go through ``visible_to(scope, perm)``
(screening/common/scoping.py); one that does not raises.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.roles import ROLE_PERMISSIONS

ALL_SITES = None

VIEW = "screening.view_eligibilitydecision"
SCREEN = "screening.add_eligibilitydecision"
SIGN = "screening.sign_eligibilitydecision"
EXPORT = "screening.export_eligibilitydecision"
PRESCREEN = "screening.prescreen_eligibilitydecision"
AUDIT = "screening.view_audit_trail"
VIEW_UPLOADS = "screening.view_prescreenupload"
VIEW_ACCESS = "accounts.view_accessevent"
ADMINISTER = "trials.change_criterion"


@dataclass(frozen=True, slots=True)
class Scope:
    """A user's grants: trial id -> site id (None: every site) -> permissions."""

    user_id: int | None
    everything: bool = False
    grants: Mapping[int, Mapping[int | None, frozenset[str]]] = field(
        default_factory=dict
    )

    def member_of(self, trial_id: int) -> bool:
        return self.everything or trial_id in self.grants

    def can(self, perm: str, trial_id: int, site_id: int | None = None) -> bool:
        """Whether the user may do ``perm`` in the trial (at ``site_id`` if given)."""
        if self.everything:
            return True
        sites = self.grants.get(trial_id, {})
        if site_id is None:
            return any(perm in perms for perms in sites.values())
        return perm in sites.get(ALL_SITES, ()) or perm in sites.get(site_id, ())

    def trials(self, perm: str) -> set[int]:
        return {
            trial_id
            for trial_id, sites in self.grants.items()
            if any(perm in perms for perms in sites.values())
        }

    def sites(self, perm: str, trial_id: int) -> set[int | None]:
        """The sites where ``perm`` holds; ``{None}`` among them means all."""
        return {
            site
            for site, perms in self.grants.get(trial_id, {}).items()
            if perm in perms
        }

    def q(self, perm: str, trial: str = "trial_id", site: str = "site_id") -> Q:
        """A filter that keeps rows of trials (and sites) where ``perm`` holds."""
        if self.everything:
            return Q()
        allowed = Q(pk__in=[])
        for trial_id in sorted(self.trials(perm)):
            sites = self.sites(perm, trial_id)
            if ALL_SITES in sites:
                allowed |= Q(**{trial: trial_id})
            else:
                allowed |= Q(**{trial: trial_id, f"{site}__in": sorted(sites)})
        return allowed


def scope_for(user) -> Scope:
    """The user's scope, computed once per request (cached on the user)."""
    cached = getattr(user, "_trial_scope", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        scope = Scope(user_id=None)
    elif user.is_superuser:
        scope = Scope(user_id=user.pk, everything=True)
    else:
        grants: dict[int, dict[int | None, set[str]]] = {}
        for trial_id, site_id, role in user.memberships.values_list(
            "trial_id", "site_id", "role"
        ):
            perms = grants.setdefault(trial_id, {}).setdefault(site_id, set())
            perms.update(ROLE_PERMISSIONS.get(role, ()))
        scope = Scope(
            user_id=user.pk,
            grants={
                trial: {site: frozenset(perms) for site, perms in sites.items()}
                for trial, sites in grants.items()
            },
        )
    user._trial_scope = scope
    return scope


def scope_forget(user) -> None:
    """Drop the cached scope (after a membership change in the same request)."""
    if hasattr(user, "_trial_scope"):
        del user._trial_scope


def trial_for(request, slug: str, perm: str, *more: str):
    """The trial of a URL if the user is a member (else 404) allowed ``perm``, or
    any of ``more`` (else 403)."""
    from trials.models import Trial

    trial = get_object_or_404(Trial, slug=slug)
    scope = scope_for(request.user)
    if not scope.member_of(trial.pk):
        raise Http404
    if not any(scope.can(p, trial.pk) for p in (perm, *more)):
        raise PermissionDenied
    return trial


def record_for(request, queryset, perm: str, **lookup):
    """One row of patient data the user may see (else 404) and act on (else 403).

    Visibility is membership of the row's trial and site in any role that may
    view it; ``perm`` is then checked for that trial and site.
    """
    scope = scope_for(request.user)
    record = get_object_or_404(queryset.visible_to(scope, VIEW_ANY), **lookup)
    if not scope.can(perm, record.trial_id, getattr(record, "site_id", None)):
        raise PermissionDenied
    return record


# Any role that may read a trial's records (coordinator, investigator, monitor).
VIEW_ANY = VIEW
