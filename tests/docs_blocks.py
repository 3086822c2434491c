"""Runs the code blocks of one Markdown file in order, in this one process, as a reader
pasting them would, and prints a JSON list of results (one per block).

    python tests/docs_blocks.py FILE.md

Each Python block gets fresh globals (a block that forgets an import fails) and its own
captured stdout; a shell block that starts with AFTER_BLOCK runs right after the Python
block above it, in the same folder. Other shell blocks (installs, commands for other
hosts) are not run. One process per file instead of one per block: TensorFlow is imported
once per file, not once per block.
"""

import contextlib
import io
import json
import re
import subprocess
import sys
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


def main(path):
    text = open(path, encoding="utf-8").read()
    results = []
    for line, kind, code in blocks(text):
        ok, output, stdout = run_block(kind, code)
        missing = [t for t in expected_prints(code) if t not in stdout] if kind == "python" \
            else []
        results.append(dict(line=line, kind=kind, ok=ok and not missing,
                            missing=missing, output=output[-4000:]))
        sys.stderr.write(f"{path}:{line} {kind} {'ok' if results[-1]['ok'] else 'FAILED'}\n")
    sys.stdout.flush()
    print("\n" + json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
