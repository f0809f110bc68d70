"""Run every notebook in nbs/ as a test, one pytest test per notebook, with nbdev's own runner.

Each notebook runs in a fresh Python process, as `nbdev_test` does, so that no notebook sees another's state.
Cells flagged with any of settings.ini's `tst_flags` (notest, slow, cuda) are skipped; list flags in
SIAMESE_TEST_FLAGS (e.g. "slow") to run those cells too. A failing cell's traceback is shown in pytest's report.
"""
import os, subprocess, sys
from pathlib import Path
import pytest
from nbdev.config import get_config

cfg = get_config()
NOTEBOOKS = sorted(p for p in Path(cfg.nbs_path).rglob('*.ipynb')
                   if not p.name.startswith(('_', '.')) and '.ipynb_checkpoints' not in p.parts)
RUN = """import sys
from pathlib import Path
from nbdev.test import test_nb
ok, secs = test_nb(Path(sys.argv[1]), skip_flags=sys.argv[2].split(), force_flags=sys.argv[3].split())
sys.exit(0 if ok else 1)
"""

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook(nb):
    res = subprocess.run([sys.executable, '-c', RUN, str(nb), cfg.tst_flags, os.environ.get('SIAMESE_TEST_FLAGS', '')],
                         capture_output=True, text=True)
    assert res.returncode == 0, f'{nb.name} failed:\n{res.stderr[-6000:]}'
