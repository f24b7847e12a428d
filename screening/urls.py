from django.urls import path

from screening.decisions import views
from screening.labs import views as lab_views
from screening.prescreen import views as prescreen_views
from screening.reports import audit, audit_review, worklists
from screening.reports import views as report_views
from screening.versions import views as version_views

app_name = "screening"

urlpatterns = [
    path("trials/<slug:trial_slug>/screen/", views.screen, name="screen"),
    path("trials/<slug:trial_slug>/log/", report_views.log, name="log"),
    path("trials/<slug:trial_slug>/worklist/", worklists.worklist, name="worklist"),
    path("trials/<slug:trial_slug>/sign-off/", worklists.sign_queue, name="sign_queue"),
    path(
        "trials/<slug:trial_slug>/log/export/", report_views.export_log, name="export"
    ),
    path(
        "trials/<slug:trial_slug>/log/screening-log/",
        report_views.export_screening_log,
        name="export_screening_log",
    ),
    path("trials/<slug:trial_slug>/funnel/", report_views.funnel, name="funnel"),
    path(
        # An opaque record id: screening numbers stay out of URLs and proxy logs.
        "decisions/<int:pk>/candidate/",
        views.candidate,
        name="candidate",
    ),
    path(
        "trials/<slug:trial_slug>/prescreen/",
        prescreen_views.upload,
        name="prescreen",
    ),
    path(
        "trials/<slug:trial_slug>/prescreen/template.csv",
        prescreen_views.template_csv,
        name="prescreen_template",
    ),
    path(
        "prescreen/<int:pk>/",
        prescreen_views.results,
        name="prescreen_results",
    ),
    path(
        "prescreen/<int:pk>/results.csv",
        prescreen_views.results_csv,
        name="prescreen_results_csv",
    ),
    path(
        "prescreen/<int:pk>/rows/<int:row>/screen/",
        prescreen_views.prefill,
        name="prescreen_prefill",
    ),
    path(
        "prescreen/jobs/<int:pk>/",
        prescreen_views.job,
        name="prescreen_job",
    ),
    path(
        "prescreen/jobs/<int:pk>/status.json",
        prescreen_views.job_status,
        name="prescreen_job_status",
    ),
    path(
        "prescreen/jobs/<int:pk>/retry/",
        prescreen_views.job_retry,
        name="prescreen_job_retry",
    ),
    path(
        "prescreen/<int:pk>/purge/",
        prescreen_views.purge,
        name="prescreen_purge",
    ),
    path(
        "trials/<slug:trial_slug>/audit-review/",
        audit_review.audit_review,
        name="audit_review",
    ),
    path(
        "trials/<slug:trial_slug>/audit/<str:kind>/",
        audit.audit_log,
        name="audit_log",
    ),
    path(
        "trials/<slug:trial_slug>/versions/",
        version_views.versions,
        name="versions",
    ),
    path(
        "trials/<slug:trial_slug>/versions/new/",
        version_views.draft_create,
        name="version_draft",
    ),
    path(
        "trials/<slug:trial_slug>/versions/<int:number>/impact/",
        version_views.impact,
        name="version_impact",
    ),
    path(
        "trials/<slug:trial_slug>/versions/<int:number>/activate/",
        version_views.activate,
        name="version_activate",
    ),
    path("trials/<slug:trial_slug>/labs/", lab_views.inbox, name="labs_inbox"),
    path("trials/<slug:trial_slug>/labs/import/", lab_views.upload, name="labs_import"),
    path(
        "trials/<slug:trial_slug>/labs/prefill/",
        lab_views.prefill,
        name="labs_prefill",
    ),
    path("labs/jobs/<int:pk>/", lab_views.job, name="labs_job"),
    path(
        "labs/jobs/<int:pk>/status.json", lab_views.job_status, name="labs_job_status"
    ),
    path("labs/jobs/<int:pk>/retry/", lab_views.job_retry, name="labs_job_retry"),
    path("labs/<int:pk>/approve/", lab_views.approve, name="labs_approve"),
    path("labs/<int:pk>/reject/", lab_views.reject, name="labs_reject"),
    path("decisions/<int:pk>/", views.decision, name="decision"),
    path("decisions/<int:pk>/record.pdf", views.decision_pdf, name="decision_pdf"),
    path("decisions/<int:pk>/correct/", views.correct, name="correct"),
    path("decisions/<int:pk>/sign/", views.sign, name="sign"),
    path("decisions/<int:pk>/enrol/", views.enrol, name="enrol"),
]
