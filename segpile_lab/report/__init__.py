"""report: the main job, ``segpile-lab report`` (see ARCHITECTURE.md, "Report").

Modules: `runner` (build_report), `params` (parameters cell and injection), `execute`
(nbclient in report mode), `checks` (outputs that would be blank offline), `export`
(offline HTML via nbconvert and the `templates/segpile_report` template), `index`
(index.html and summary.json), `cli`. The defaults live here so that the CLI's ``--help``
does not import nbformat/nbclient.
"""

from pathlib import Path

DEFAULT_OUT_DIR = Path("segpile-report")
DEFAULT_CELL_TIMEOUT_S = 1200.0
