"""Pagination that counts at most COUNT_CAP rows.

An exact count of a large filtered list is a full scan; past a thousand rows nobody pages
through a worklist, so the count stops there and the page says "1000+".
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from registry.selectors.followups import COUNT_CAP


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, exact: bool = False, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.exact = exact
        self.capped = False

    @cached_property
    def count(self) -> int:
        if self.exact:
            return super().count
        objects = self.object_list
        if hasattr(objects, "query"):  # a QuerySet: count a sliced one (LIMIT in SQL)
            counted = objects.order_by().values("pk")[: COUNT_CAP + 1].count()
        else:
            counted = objects.count()
        self.capped = counted > COUNT_CAP
        return min(counted, COUNT_CAP)
