from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from trials.models import Trial

from .models import AccessEvent
from .roles import ROLE_LABELS


def home(request):
    """Send each user to their work; a user without a role sees only that."""
    user = request.user
    if not (user.is_superuser or user.groups.exists()):
        return render(request, "accounts/no_role.html", status=403)
    if user.has_perm("screening.view_eligibilitydecision"):
        trials = list(Trial.objects.order_by("slug")[:2])
        if len(trials) == 1:
            return redirect(trials[0])
        return render(request, "accounts/trials.html", {"trials": Trial.objects.all()})
    if user.is_staff:
        return redirect("admin:index")
    return render(request, "accounts/no_role.html", status=403)


@permission_required("accounts.view_accessevent", raise_exception=True)
def access_log(request):
    events = AccessEvent.objects.select_related("actor").order_by("-at", "-id")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    for event in page:
        event.detail_label = ROLE_LABELS.get(event.detail, event.detail)
    return render(request, "accounts/access_log.html", {"page": page})
