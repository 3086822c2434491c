"""Runs the code blocks of Markdown files in order, file after file, in this one process,
as a reader pasting them would, and prints a JSON object `{file: [result per block]}`.

    python tests/docs_blocks.py FILE.md [FILE.md ...]

Each Python block gets fresh globals (a block that forgets an import fails) and its own
captured stdout; a shell block that starts with AFTER_BLOCK runs right after the Python
block above it, in the same folder. Other shell blocks (installs, commands for other
hosts) are not run. One process for all the files: TensorFlow is imported once, not once
per file or per block (each import costs ~6 CPU-seconds on the 2-core CI machine).
"""

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
import traceback

AFTER_BLOCK = "# from the repository root, after command 1 and the Python block above"


def blocks(text):
    """`[(line, kind, code)]` of the blocks that run: Python blocks, and shell blocks that
    start with AFTER_BLOCK."""
    found = []
    for match in re.finditer(r"```(python|bash)\n(.*?)```", text, re.S):
        line = text[:match.start()].count("\n") + 1
        kind, code = match.groups()
        if kind == "python" or code.startswith(AFTER_BLOCK):
            found.append((line, kind, code))
    return found


def expected_prints(code):
    """The `# text` of `print(...)  # text` lines, which must appear in the output."""
    return [m.group(1).strip() for m in
            re.finditer(r"^[ \t]*print\(.*\)[ \t]+#[ \t]*(.+)$", code, re.M)]


def run_block(kind, code):
    if kind == "bash":
        result = subprocess.run(["bash", "-ec", code], capture_output=True, text=True,
                                timeout=600)
        return result.returncode == 0, result.stdout + result.stderr, result.stdout
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<block>", "exec"), {"__name__": "__main__"})
    except BaseException:  # noqa: BLE001 - reported, with the block's line
        return False, out.getvalue() + traceback.format_exc(), out.getvalue()
    return True, out.getvalue(), out.getvalue()


def run_file(path):
    """The file's blocks, in a folder of its own under the current one (with the current
    folder's `.venv`, if any), as if the reader had pasted only this file."""
    text = open(path, encoding="utf-8").read()
    home = os.getcwd()
    folder = os.path.join(home, os.path.splitext(os.path.basename(path))[0])
    os.makedirs(folder)
    if os.path.exists(os.path.join(home, ".venv")):
        os.symlink(os.path.join(home, ".venv"), os.path.join(folder, ".venv"))
    os.chdir(folder)
    try:
        return _run_blocks(path, text)
    finally:
        os.chdir(home)


def _run_blocks(path, text):
    results = []
    for line, kind, code in blocks(text):
        start = time.perf_counter()
        ok, output, stdout = run_block(kind, code)
        seconds = time.perf_counter() - start
        missing = [t for t in expected_prints(code) if t not in stdout] if kind == "python" \
            else []
        results.append(dict(line=line, kind=kind, ok=ok and not missing,
                            missing=missing, output=output[-4000:]))
        sys.stderr.write(f"{path}:{line} {kind} {'ok' if results[-1]['ok'] else 'FAILED'}"
                         f" {seconds:.1f} s\n")
    return results


def main(paths):
    results = {os.path.basename(path): run_file(path) for path in paths}
    sys.stdout.flush()
    print("\n" + json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:])
