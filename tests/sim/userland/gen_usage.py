"""Regenerate ``backends/sim/userland/usage_text.py`` from the real busybox.

Usage messages are observable behaviour (a bad option prints one to stderr),
so we record them from the binary the simulator imitates instead of typing
them in.  Run on a host with busybox 1.35:  python tests/sim/userland/gen_usage.py
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from stepbox.backends.sim.userland.applet_table import REAL_APPLETS  # noqa: E402

    lines = [
        '"""Usage texts recorded from busybox 1.35 by tests/sim/userland/gen_usage.py.',
        "",
        'Generated data: do not edit by hand."""',
        "",
        "USAGE: dict[str, str] = {",
    ]
    for name in sorted(REAL_APPLETS):  # every applet: an unimplemented one's usage costs nothing
        out = subprocess.run(["busybox", "--help", name], capture_output=True, text=True)
        text = out.stdout + out.stderr
        if "Usage:" in text:
            body = text[text.index("Usage:") :]
        elif "\n\n" in text:  # "No help available"
            body = text.split("\n\n", 1)[1]
        else:
            continue
        lines.append(f"    {name!r}: {body!r},")
    lines.append("}")
    dest = ROOT / "backends/sim/userland/usage_text.py"
    dest.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
