"""Rows of a log as a download: CSV streamed row by row, or an Excel workbook.

The workbook is written by xlsxwriter in constant-memory mode (each row is
flushed to disk as it is written) into a temporary file, which the response
then streams. Text is always written as a text cell, so a value that starts
with "=" is never a formula; CSV cells get the same protection from
``screening.common.csv``.
"""

import tempfile
import unicodedata
from collections.abc import Iterable

import xlsxwriter
from django.http import FileResponse, StreamingHttpResponse

from screening.common.csv import csv_stream

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Characters Excel refuses in a sheet's name, and its length limit.
SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})
SHEET_NAME_MAX = 31
COLUMN_WIDTH_MAX = 40


def csv_response(
    rows: Iterable[list], *, filename: str, excel: bool
) -> StreamingHttpResponse:
    """Rows as a streamed CSV download (with a byte order mark for Excel)."""
    response = StreamingHttpResponse(
        csv_stream(
            ([("" if cell is None else cell) for cell in row] for row in rows),
            excel=excel,
        ),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(
    rows: Iterable[list], *, filename: str, sheet_name: str, print_title: str
) -> FileResponse:
    """Rows as an .xlsx download: the first row is the header, frozen and bold."""
    # Deleted when closed; the response closes it once sent.
    handle = tempfile.TemporaryFile()
    try:
        _write_workbook(handle, rows, sheet_name=sheet_name, print_title=print_title)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=XLSX_CONTENT_TYPE,
    )


def _write_workbook(handle, rows: Iterable[list], *, sheet_name: str, print_title):
    workbook = xlsxwriter.Workbook(
        handle, {"constant_memory": True, "strings_to_formulas": False}
    )
    sheet = workbook.add_worksheet(
        sheet_name.translate(SHEET_NAME_FORBIDDEN)[:SHEET_NAME_MAX]
    )
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    # "&" starts a control code in a page header: a literal one is doubled.
    sheet.set_header("&C" + print_title.replace("&", "&&"))
    sheet.set_footer("&R&P / &N")
    for index, row in enumerate(rows):
        if index == 0:
            # Column widths go before any row in constant-memory mode.
            for column, header in enumerate(row):
                width = min(max(_display_width(str(header)) + 2, 10), COLUMN_WIDTH_MAX)
                sheet.set_column(column, column, width)
            sheet.freeze_panes(1, 0)
        style = bold if index == 0 else wrapped
        for column, cell in enumerate(row):
            if cell is None or cell == "":
                continue
            if isinstance(cell, bool):
                sheet.write_string(index, column, str(cell), style)
            elif isinstance(cell, int | float):
                sheet.write_number(index, column, cell, style)
            else:
                sheet.write_string(index, column, str(cell), style)
    workbook.close()


def _display_width(text: str) -> int:
    # A Chinese character takes two columns of a Latin one.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
