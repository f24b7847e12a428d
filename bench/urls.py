"""The project's URLs plus the reference view of the load benchmark."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as project_urlpatterns


@login_not_required
@csrf_exempt
@require_POST
def reference_insert(request):
    """One INSERT into the bench table (made by bench/load.sh), nothing else.

    What this server can do per request through the same middleware: the
    floor for the screening submission's throughput.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_reference (payload) VALUES (%s)",
            [request.POST.get("payload", "")[:64]],
        )
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/reference/", reference_insert, name="bench_reference"),
    *project_urlpatterns,
]
