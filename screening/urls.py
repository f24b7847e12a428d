from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("trials/<slug:trial_slug>/screen/", views.screen, name="screen"),
    path("trials/<slug:trial_slug>/log/", views.log, name="log"),
    path(
        "trials/<slug:trial_slug>/candidates/<str:screening_number>/",
        views.candidate,
        name="candidate",
    ),
    path("decisions/<int:pk>/", views.decision, name="decision"),
    path("decisions/<int:pk>/correct/", views.correct, name="correct"),
    path("decisions/<int:pk>/sign/", views.sign, name="sign"),
]
