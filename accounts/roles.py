"""The roles of the study team as Django groups, with their permissions."""

from django.utils.translation import gettext_lazy as _

COORDINATOR = "Coordinator"
INVESTIGATOR = "Investigator"
MONITOR = "Monitor"
TRIAL_ADMIN = "Trial admin"

_READ = [
    "screening.view_eligibilitydecision",
    "screening.view_criterionoutcome",
    "screening.view_signature",
    "trials.view_trial",
    "trials.view_criterion",
    "trials.view_condition",
]
_SCREEN = [
    "screening.add_eligibilitydecision",
    "screening.prescreen_eligibilitydecision",
    "screening.export_eligibilitydecision",
    "screening.view_prescreenupload",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    COORDINATOR: [*_READ, *_SCREEN],
    INVESTIGATOR: [*_READ, *_SCREEN, "screening.sign_eligibilitydecision"],
    MONITOR: [
        *_READ,
        "screening.export_eligibilitydecision",
        "screening.view_audit_trail",
        "screening.view_screeninglogexport",
        "screening.view_prescreenupload",
        "accounts.view_accessevent",
        "trials.view_criteriaversion",
        "trials.view_impactreport",
        # A mistaken upload: its file and rows removed, a tombstone kept.
        "screening.purge_prescreenupload",
    ],
    TRIAL_ADMIN: [
        "screening.purge_prescreenupload",
        "trials.view_criteriaversion",
        "trials.change_criteriaversion",
        "trials.view_impactreport",
        "trials.view_versionactivation",
        "trials.view_trial",
        "trials.add_trial",
        "trials.change_trial",
        "trials.view_criterion",
        "trials.add_criterion",
        "trials.change_criterion",
        "trials.view_condition",
        "trials.add_condition",
        "trials.change_condition",
        "trials.delete_condition",
    ],
}

ROLE_LABELS = {
    COORDINATOR: _("Coordinator"),
    INVESTIGATOR: _("Investigator"),
    MONITOR: _("Monitor"),
    TRIAL_ADMIN: _("Trial admin"),
}
