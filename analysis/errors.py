"""The one exception type for unusable input, rendered as a single line."""
from __future__ import annotations


class InputError(Exception):
    """An input file cannot be used.

    The command line prints ``str(error)`` on one line and exits with code 2;
    it never shows a traceback for this error.

    Parameters
    ----------
    file : str
        File name (or path) of the offending input.
    line : int or None
        1-based physical line number in the file, the header being line 1.
    column : str or None
        Column name (or position) concerned.
    expected : str
        What was expected, in words, and what was found.
    """

    def __init__(self, file: str, line: int | None, column: str | None, expected: str):
        self.file, self.line, self.column, self.expected = str(file), line, column, expected
        where = [self.file]
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(f"{', '.join(where)}: {expected}")
