"""A user's REST API tokens: create one (its key is shown on this page once, never again),
see the others, revoke them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from registry.forms.api_tokens import ApiTokenForm
from registry.models import ApiToken
from registry.services.api_tokens import api_token_create, api_token_revoke


@never_cache  # the page that shows a new key must not be kept by a cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens_view(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None, user=request.user)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_key = api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            form = ApiTokenForm(user=request.user)
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created")
    context = {"form": form, "tokens": tokens, "new_key": new_key}
    return render(request, "registry/api_tokens.html", context)


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest) -> HttpResponse:
    token = get_object_or_404(ApiToken, user=request.user, pk=request.POST.get("token", ""))
    api_token_revoke(user=request.user, token=token)
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("api_tokens")
