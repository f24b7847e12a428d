"""The user's own API tokens: create (shown once), list, revoke."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from screening.api.forms import ApiTokenForm
from screening.api.models import ApiToken
from screening.api.tokens import api_token_create, api_token_revoke, api_tokens_of


@require_http_methods(["GET", "POST"])
def tokens(request):
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = api_token_create(
                user=request.user, name=form.cleaned_data["name"], request=request
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field, errors)
            else:
                form.add_error(None, exc)
        else:
            # Shown on this response only: the token is never stored.
            created = {"token": token, "secret": secret}
            form = ApiTokenForm()
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "created": created,
            "tokens": api_tokens_of(user=request.user),
        },
    )


@require_POST
def token_revoke(request, pk):
    try:
        token = api_token_revoke(user=request.user, token_id=pk, request=request)
    except ApiToken.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api_tokens")
