"""The interop package is core: it imports no Django (the web app imports it, not back)."""

from __future__ import annotations

import subprocess
import sys


def test_interop_imports_no_django() -> None:
    code = ("import sys\n"
            "import itb.interop.commands, itb.interop.redcap, itb.interop.fhir\n"
            "import itb.interop.research, itb.interop.deidentify, itb.reports.suppression\n"
            "assert not [m for m in sys.modules if m.split('.')[0] == 'django'], 'django'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
