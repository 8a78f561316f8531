"""Cursor pagination for record lists: stable under inserts, no COUNT(*) per page."""

from rest_framework.pagination import CursorPagination


class RecordCursorPagination(CursorPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "id"  # the primary key: unique and indexed, so a cursor never skips a row
