"""A paginator whose count stops at a cap, for lists that grow with a trial."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows of a query set, then says there are more.

    ``count`` runs ``SELECT COUNT(*) FROM (... LIMIT cap + 1)``, without the
    list's order (which rows are counted does not change how many): the
    database stops at the cap by whichever index suits the filter, where a full
    count reads every matching row of a trial of a million records on every
    page view. Pages reach the first ``cap`` rows in the list's order; ``more``
    tells the page to say so (filters narrow the list, exports hold every row).
    """

    def __init__(self, object_list, per_page, *, cap: int, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _counted(self) -> int:
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def more(self) -> bool:
        return self._counted > self.cap
