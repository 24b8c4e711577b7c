"""tools/make_results.py: one page naming every claim, every figure it links written."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "make_results.py"


@pytest.mark.slow
def test_make_results_writes_every_claim_and_figure(tmp_path):
    completed = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--out", str(tmp_path)],
                               capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert completed.returncode == 0, completed.stderr

    page = (tmp_path / "results.md").read_text()
    claims = ["Initialisation and depth", "Saturated units kill the gradient",
              "ReLU converges faster than tanh", "Dead ReLUs", "Batch normalisation",
              "Zero-centred data", "Overfit a small dataset first",
              "Random search beats grid search", "Fine-tuning pretrained weights",
              "Update-to-weight ratio"]
    table = page.split("\n## ")[0]
    for number, claim in enumerate(claims, start=1):
        assert f"| {number}. {claim} |" in table             # one row per claim
        assert f"\n## {number}. {claim}\n" in page            # and a section
    assert "Krizhevsky et al. 2012" in page and "Ioffe & Szegedy 2015" in page
    assert "Bergstra & Bengio 2012" in page

    linked = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", page)
    assert len(linked) >= len(claims)
    for name in linked:
        png = tmp_path / name
        assert png.is_file()
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert written == sorted(Path(n).name for n in linked)  # nothing unlinked, nothing missing
