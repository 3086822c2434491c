"""Every Python block of README.md and docs/*.md runs as written, in README / guide
order, all files in one fresh process (`tests/docs_blocks.py`), each file in a folder of
its own; a `print(...)  # text` line must print that text. A shell block that starts with "# from the repository root, after
command 1 and the Python block above" runs right after that block, in the same folder,
whose `.venv` is this environment."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUNNER = pathlib.Path(__file__).with_name("docs_blocks.py")
sys.path.insert(0, str(RUNNER.parent))
import docs_blocks  # noqa: E402

FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


def test_readme_opens_with_a_short_quick_start():
    found = docs_blocks.blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    first_python = next(code for _, kind, code in found if kind == "python")
    assert len(first_python.strip().splitlines()) <= 15
    serving = docs_blocks.blocks((ROOT / "docs" / "serving.md").read_text(encoding="utf-8"))
    assert any(kind == "bash" for _, kind, _ in serving)  # the export, then saved_model_cli


@pytest.mark.slow(90)
def test_every_block_runs(tmp_path):
    """All files in one process (`docs_blocks.py`), each in a folder of its own."""
    paths = [f for f in FILES if docs_blocks.blocks(f.read_text(encoding="utf-8"))]
    assert len(paths) >= 10  # README and the guides
    (tmp_path / ".venv").symlink_to(sys.prefix)
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, str(RUNNER), *map(str, paths)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=1500, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    by_file = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(by_file) == sorted(p.name for p in paths)
    failed = [f"{name} line {r['line']} ({r['kind']})"
              + (f": not printed {r['missing']}" if r["missing"] else "")
              + f"\n{r['output']}" for name, results in by_file.items() for r in results
              if not r["ok"]]
    assert all(by_file.values()), [name for name, results in by_file.items() if not results]
    assert not failed, "\n\n".join(failed)


def test_readme_command_2_is_what_ci_runs():
    """README's command 2 and `.ci/run` change together."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = ci[ci.index("BACKEND_TESTS="):].strip()
    assert command in readme, "README's command 2 differs from .ci/run:\n" + command
