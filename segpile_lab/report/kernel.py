"""IPython extension that report mode loads into every notebook kernel.

Python warnings become styled notes (`display.show_note`) instead of stderr blocks that show
the temporary file and source line of the cell that raised them. Loaded by `execute` with
``--IPKernelApp.extensions=segpile_lab.report.kernel``; JupyterLab sessions are unaffected.
"""

from __future__ import annotations

import warnings
from typing import Any, TextIO


def load_ipython_extension(ipython: Any) -> None:
    """Route `warnings.showwarning` to a styled note in the cell's output."""
    from IPython.display import display

    from segpile_lab.report.display import show_note

    def showwarning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        display(show_note(str(message), title=category.__name__, kind="warning"))

    warnings.showwarning = showwarning
