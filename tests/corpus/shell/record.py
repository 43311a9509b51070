"""Record what REAL busybox does with each script of this corpus.

Every ``NAME.sh`` here is run as ``sh -c "$(cat NAME.sh)"`` by busybox's
shell, with ``argv[0]`` "sh", in a fresh empty working directory, with
``PATH`` holding only busybox applet links and ``HOME=/root``; its stdout,
stderr and exit status are written to ``NAME.expected.json``.

The corpus is the oracle for the simulator's shell (tests/sim/userland)
and, later, for differential tests on the Linux backend: the scripts use
only relative paths and print nothing host-specific (no PIDs, no times).

    python tests/corpus/shell/record.py [--busybox /usr/bin/busybox] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
# Applets the scripts may call as commands (links in PATH, like /bin in the image).
APPLET_LINKS = (
    "sh ash echo cat ls ps hostname id sleep true false mkdir rm rmdir mv cp touch head tail "
    "wc grep egrep fgrep env mount kill pwd printf test [ expr seq uname whoami yes stat ln "
    "chmod readlink basename dirname umount ip free nproc dd tee sort uniq cut tr usleep "
    "sed awk find xargs tar gzip gunzip zcat sha256sum md5sum"
).split()
ENV = {"HOME": "/root"}
TIMEOUT = 20


def scripts(names: list[str]) -> list[pathlib.Path]:
    found = sorted(HERE.glob("*.sh"))
    return [p for p in found if not names or p.stem in names]


def record(busybox: str, script: pathlib.Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        bindir = pathlib.Path(tmp, "bin")
        work = pathlib.Path(tmp, "work")
        bindir.mkdir()
        work.mkdir()
        for name in APPLET_LINKS:
            os.symlink(busybox, bindir / name)
        env = dict(ENV, PATH=str(bindir))
        proc = subprocess.run(
            ["sh", "-c", script.read_text()],
            executable=str(bindir / "sh"),
            cwd=work,
            env=env,
            capture_output=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    return {
        "stdout": proc.stdout.decode("utf-8", "surrogateescape"),
        "stderr": proc.stderr.decode("utf-8", "surrogateescape"),
        "status": proc.returncode if proc.returncode >= 0 else 128 - proc.returncode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busybox", default="/usr/bin/busybox")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args()
    version = subprocess.run([args.busybox], capture_output=True, text=True).stdout.splitlines()[0]
    for script in scripts(args.names):
        result = record(args.busybox, script)
        result["recorded_with"] = version
        dest = script.with_suffix(".expected.json")
        tmp = dest.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
        tmp.replace(dest)
        print(f"{script.stem}: status {result['status']}")


if __name__ == "__main__":
    main()
