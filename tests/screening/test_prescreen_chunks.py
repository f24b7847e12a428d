"""The command's workers are sent CSV lines by chunk: the same rows, cut right."""

import io

import pytest

from screening.prescreen.files import (
    UnreadableFile,
    chunk_cells,
    csv_line_chunks,
    csv_rows,
)

HEADER = "screening_number,initials\r\n"
# A quoted cell holding line breaks and quotes, blank rows (Excel's too), a
# bare carriage return as a line end, a last line without one.
BODY = (
    '01-001,"A\r\nB"\r\n'
    "\r\n"
    ",\r\n"
    '01-002,"say ""hi""\nthere"\n'
    "01-003,C\r"
    "01-004,D\r\n"
    '"01-005",E'
)


def _chunked(text: str, size: int):
    columns, chunks = csv_line_chunks(io.StringIO(text, newline=""), size)
    return columns, list(chunks)


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_chunks_hold_the_rows_csv_rows_gives(size):
    text = HEADER + BODY
    columns, rows = csv_rows(io.StringIO(text, newline=""))
    chunked_columns, chunks = _chunked(text, size)
    assert chunked_columns == columns
    cells = [cells for _count, chunk in chunks for cells in chunk_cells(chunk)]
    assert cells == list(rows)
    assert [count for count, _chunk in chunks] == [
        len(list(chunk_cells(chunk))) for _count, chunk in chunks
    ]
    assert all(0 < count <= size for count, _chunk in chunks)
    assert len(cells) == 5


def test_a_problem_drops_the_rows_since_the_last_whole_chunk():
    too_long = "01-009," + "x" * 200_000 + "\r\n"
    text = HEADER + "01-001,A\r\n01-002,B\r\n01-003,C\r\n" + too_long
    _columns, chunks = csv_line_chunks(io.StringIO(text, newline=""), 2)
    count, chunk = next(chunks)
    assert count == 2 and list(chunk_cells(chunk))[1] == ["01-002", "B"]
    with pytest.raises(UnreadableFile) as raised:
        next(chunks)
    assert raised.value.code == "csv_invalid"


def test_a_problem_after_a_first_row_gives_an_empty_chunk_first():
    # The command prints its header when the file has a first row, as before.
    too_long = "01-009," + "x" * 200_000 + "\r\n"
    text = HEADER + "01-001,A\r\n" + too_long
    _columns, chunks = csv_line_chunks(io.StringIO(text, newline=""), 1000)
    assert next(chunks) == (0, "")
    with pytest.raises(UnreadableFile):
        next(chunks)
    _columns, chunks = csv_line_chunks(io.StringIO(HEADER + too_long, newline=""), 9)
    with pytest.raises(UnreadableFile):
        next(chunks)
