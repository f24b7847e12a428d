"""Reads of the access log: which events a reader may see."""

from django.db.models import Q, QuerySet

from trials.models import Trial

from . import reauth
from .models import AccessEvent, Membership
from .roles import ROLE_PERMISSIONS
from .scope import VIEW_ACCESS, Scope

# The details that name a trial (``Membership.describe``, ``reauth``).
_NAMES_A_TRIAL = Q(detail__startswith="membership ") | Q(
    detail__startswith=reauth.DETAIL_PREFIX
)


def membership_details(trial: Trial) -> Q:
    """Access events of the trial's memberships (``Membership.describe``)."""
    q = Q(pk__in=[])
    for role in ROLE_PERMISSIONS:
        exact = f"membership {role}: {trial.slug}"
        q |= Q(detail=exact) | Q(detail__startswith=f"{exact}/")
    return q


def access_events_visible(scope: Scope) -> QuerySet[AccessEvent]:
    """The access events a reader may see: all for a superuser; else those of
    the users of the trials where they may view access, and of those only the
    events that name no trial or one of these trials (a member's events in
    another trial stay with that trial's readers). None without such a trial.
    """
    events = AccessEvent.objects.all()
    if scope.everything:
        return events
    trials = list(Trial.objects.filter(pk__in=scope.trials(VIEW_ACCESS)))
    if not trials:
        return events.none()
    members = Membership.objects.filter(trial__in=trials)
    ids = members.values("user_id")
    names = members.values("user__username")
    # Failed logins name no user row: matched by the name typed. Names that
    # match no member (a password typed as a name, say) stay with superusers.
    events = events.filter(
        Q(user__in=ids) | Q(actor__in=ids) | Q(user__isnull=True, username__in=names)
    )
    own = Q(pk__in=[])
    for trial in trials:
        own |= membership_details(trial)
        own |= Q(detail__startswith=reauth.reauth_detail_prefix(trial.slug))
    return events.filter(~_NAMES_A_TRIAL | own)
