"""Querysets of patient data that refuse to run unless scoped (fail closed).

``Model.objects`` on a model with patient data is a ``ScopedQuerySet``: it runs
only after ``.visible_to(scope, perm)`` (a user's memberships) or ``.system()``
(code that is not serving a user: the audit chain, commands). Anything else
raises ``UnscopedQuery`` instead of returning every trial's rows. Django's own
machinery (related managers, validation, admin's default) uses the model's
plain default manager, ``unscoped``; admin pages scope their querysets
themselves.
"""

from django.db import models


class UnscopedQuery(RuntimeError):
    """A query of patient data ran without a user's scope or ``.system()``."""


class ScopedQuerySet(models.QuerySet):
    _scoped = False

    def visible_to(self, scope, perm: str):
        """Only the rows of trials and sites where the scope holds ``perm``."""
        trial, site = getattr(self.model, "SCOPE_FIELDS", ("trial_id", "site_id"))
        clone = self.filter(scope.q(perm, trial=trial, site=site))
        clone._scoped = True
        return clone

    def system(self):
        """Every row: for the audit chain, commands and services, never a page."""
        clone = self._chain()
        clone._scoped = True
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._scoped = self._scoped
        return clone

    def _check(self):
        if not self._scoped:
            raise UnscopedQuery(
                f"{self.model.__name__}: a query of patient data must be scoped "
                "with .visible_to(scope, perm) or marked .system()"
            )

    def _fetch_all(self):
        if self._result_cache is None:
            self._check()
        super()._fetch_all()

    def iterator(self, chunk_size=None):
        self._check()
        return super().iterator(chunk_size=chunk_size)

    def count(self):
        if self._result_cache is None:
            self._check()
        return super().count()

    def exists(self):
        if self._result_cache is None:
            self._check()
        return super().exists()

    def aggregate(self, *args, **kwargs):
        self._check()
        return super().aggregate(*args, **kwargs)

    def update(self, **kwargs):
        self._check()
        return super().update(**kwargs)

    def delete(self):
        self._check()
        return super().delete()


ScopedManager = models.Manager.from_queryset(ScopedQuerySet)
