from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Everyone starts the day on the follow-up worklist of their site."""
    return redirect("worklist")


@never_cache
@require_GET
def session_keepalive(request: HttpRequest) -> HttpResponse:
    """Typing in a form is activity: the page pings this so a long form does not time out.
    An expired session answers 401 and the page goes to the sign-in page."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    return HttpResponse(status=204)
