"""Every Python block of README.md runs as written, in a fresh process, in README order;
a `print(...)  # text` line must print that text. The shell block that follows a Python block
("after command 1 and the Python block above") runs right after it, in the same test and
folder, whose `.venv` is this environment."""

import os
import pathlib
import re
import subprocess
import sys

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
AFTER_BLOCK = "# from the repository root, after command 1 and the Python block above"


def blocks():
    """`(line, kind, code)` per block; a shell block that follows a Python block is
    kept with it (`kind` "python+bash", `code` both), so that one test runs the two
    in order in one folder (pytest-xdist may give separate tests to separate workers)."""
    text = README.read_text(encoding="utf-8")
    found = []
    for match in re.finditer(r"```(python|bash)\n(.*?)```", text, re.S):
        line = text[:match.start()].count("\n") + 1
        kind, code = match.groups()
        if kind == "python":
            found.append((line, kind, code))
        elif code.startswith(AFTER_BLOCK):
            assert found and found[-1][1] == "python", f"README.md line {line}: no block above"
            above_line, _, above = found.pop()
            found.append((above_line, "python+bash", (above, code)))
    return found


def expected_prints(code):
    """The `# text` of `print(...)  # text` lines, which must appear in the output."""
    return [m.group(1).strip() for m in re.finditer(r"^[ \t]*print\(.*\)[ \t]+#[ \t]*(.+)$", code, re.M)]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("readme")
    (folder / ".venv").symlink_to(sys.prefix)
    return folder


def test_readme_has_the_blocks_it_should():
    found = blocks()
    assert sum(kind.startswith("python") for _, kind, _ in found) >= 10
    assert any(kind == "python+bash" for _, kind, _ in found)
    first_python = next(code for _, kind, code in found if kind == "python")
    assert len(first_python.strip().splitlines()) <= 15  # the quick start


@pytest.mark.parametrize("line,kind,code", blocks(), ids=lambda v: str(v)[:12])
def test_readme_block_runs(line, kind, code, workdir):
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    steps = [("python", code)] if kind == "python" else list(zip(("python", "bash"), code))
    for step, text_of in steps:
        command = [sys.executable, "-c", text_of] if step == "python" else [
            "bash", "-ec", text_of]
        result = subprocess.run(command, cwd=workdir, capture_output=True, text=True,
                                timeout=600, env=env)
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"README.md line {line} ({step}):\n{output[-4000:]}"
        for text in expected_prints(text_of):
            assert text in result.stdout, f"README.md line {line}: {text!r} not printed:\n" \
                f"{result.stdout[-3000:]}"
