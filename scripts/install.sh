#!/usr/bin/env bash
# Install stepbox and everything its tests need, from a fresh clone, as root or not.
#
#  - stepbox goes into a virtual environment of its own, .venv in the checkout
#    (editable, with its test dependencies and what the notebooks need: the
#    tests execute every notebook).  Never into the system's Python: Debian and
#    Ubuntu forbid that (PEP 668, "externally-managed-environment"), for root too.
#    Then `. .venv/bin/activate` puts `stepbox` on PATH; ~/.local/bin/stepbox is
#    linked to it as well, for new shells (on PATH there in most distributions).
#  - as root on Debian/Ubuntu, first the host packages: python3-venv (the venv
#    itself), busybox-static (the busybox image on the real kernel), iproute2
#    (container networking), runc, docker.io, docker-registry and skopeo (the
#    real things the interop tests and benchmarks compare with), chromium and
#    CJK fonts (the test that opens a notebook in JupyterLab), user-mode-linux
#    (the cgroup-v2-only kernel scripts/cgroup2_vm.py boots) with kmod (its
#    modprobe, which that kernel calls to load a module on demand), uidmap
#    (newuidmap/newgidmap: rootless containers map a user's subordinate IDs with
#    them) and openssh (the test of `-H ssh://`, which runs its own sshd on
#    127.0.0.1 -- no package's service is started by this script, see
#    policy-rc.d below).  Without root they are skipped, and the script says
#    which are missing and what needs them.
#
# Environment: PYTHON (the interpreter the venv is made from; default python3,
# at least 3.11.2), STEPBOX_VENV (default .venv), STEPBOX_EXTRAS (default
# test,notebooks), STEPBOX_NO_LAUNCHER=1 (no ~/.local/bin/stepbox).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${STEPBOX_VENV:-.venv}
EXTRAS=${STEPBOX_EXTRAS:-test,notebooks}

APT_PACKAGES=(python3-venv busybox-static iproute2 nftables docker-compose runc docker.io containerd podman docker-registry skopeo chromium fonts-noto-cjk libseccomp2 gcc libc6-dev
              user-mode-linux kmod uidmap slirp4netns openssh-client openssh-server nodejs npm)
declare -A NEEDED_FOR=(
    [python3-venv]="making the venv with Debian's python3"
    [busybox-static]="the busybox image on the real kernel"
    [iproute2]="container networking on the real kernel"
    [nftables]="published ports and outbound traffic on the real kernel"
    [docker-compose]="the docker-compose tests"
    [runc]="the tests and benchmarks that compare with runc"
    [docker.io]="the tests and benchmarks that compare with Docker"
    [containerd]="the tests that run stepbox-runc under containerd (ctr)"
    [podman]="the test that runs stepbox-runc under podman (podman --runtime)"
    [docker-registry]="the tests that compare with the CNCF registry"
    [skopeo]="the registry interop tests"
    [chromium]="the test that opens a notebook in JupyterLab"
    [fonts-noto-cjk]="the Chinese text in that test's screenshot"
    [libseccomp2]="the seccomp filter of containers on the real kernel"
    [gcc]="the tests that compile a static syscall probe to compare with Docker"
    [libc6-dev]="the tests that compile a static syscall probe to compare with Docker"
    [user-mode-linux]="the cgroup-v2-only kernel of scripts/cgroup2_vm.py"
    [kmod]="that kernel's modprobe: it loads TUN/TAP and the packet filter's modules on demand"
    [uidmap]="rootless containers with subordinate IDs (newuidmap/newgidmap)"
    [slirp4netns]="the user-mode network of rootless containers (tap0, 10.0.2.100)"
    [openssh-client]="the test of -H ssh://"
    [openssh-server]="the test of -H ssh:// (its own sshd on 127.0.0.1; the service is not started)"
    [nodejs]="the test that runs the simulator under Pyodide (tests/pyodide)"
    [npm]="installing Pyodide for that test"
)

say() { echo "install.sh: $*"; }

# -- host packages (Debian/Ubuntu) -----------------------------------------------------------
if [ "$(uname -s)" = Linux ] && command -v dpkg >/dev/null; then
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
        # a nodejs from elsewhere (NodeSource's) brings its own npm, and Debian's npm
        # package would want Debian's nodejs in its place
        [ "$p" = npm ] && command -v npm >/dev/null && continue
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            say "installing host packages: ${missing[*]}"
            # Installing a server package must not start its service (an sshd on
            # port 22 of the host): policy-rc.d answering 101 forbids it.
            # Ours is removed however apt-get ends (set -e stops the script on a failure).
            guard=""
            if [ ! -e /usr/sbin/policy-rc.d ]; then
                printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
                guard=/usr/sbin/policy-rc.d
                trap 'rm -f /usr/sbin/policy-rc.d' EXIT
            fi
            apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
            if [ -n "$guard" ]; then
                rm -f "$guard"
                trap - EXIT
            fi
        else
            say "not root: skipping the host packages; missing here (apt-get install as root):"
            for p in "${missing[@]}"; do
                echo "    $p -- ${NEEDED_FOR[$p]}"
            done
            say "without root stepbox runs containers on the simulated kernel; the real kernel needs root."
        fi
    fi
fi

# -- the interpreter ----------------------------------------------------------------------------
if ! command -v "$PYTHON" >/dev/null; then
    say "no $PYTHON found: install Python 3.11.2 or newer, or name one with PYTHON=/path/to/python3"
    exit 1
fi
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11, 2))'; then
    say "$("$PYTHON" --version 2>&1) is too old: stepbox needs Python 3.11.2 or newer (PYTHON=/path/to/python3)"
    exit 1
fi

# -- the venv -------------------------------------------------------------------------------------
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11, 2))' 2>/dev/null; then
    say "using the existing venv $VENV ($("$VENV/bin/python" --version))"
else
    if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
        say "$PYTHON cannot make a venv: on Debian/Ubuntu install python3-venv (apt-get install python3-venv," \
            "as root: running this script as root does it), or name another Python with PYTHON=..."
        exit 1
    fi
    rm -rf "$VENV"
    say "making the venv $VENV with $("$PYTHON" --version) ($(command -v "$PYTHON"))"
    "$PYTHON" -m venv "$VENV"
fi
say "installing stepbox into $VENV (editable, extras: $EXTRAS)"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]"

# -- a plain path instead of the editable install's import hook -------------------------------------
# pip's editable install maps stepbox -> toplevel/, stepbox.core -> core/, stepbox.backends ->
# backends/ through an import hook that its .pth file imports at every interpreter start, with
# pathlib and importlib.util: about 10 of a bare interpreter's 17 ms (issue 18), paid by every
# stepbox command.  A directory of links to those directories gives the same mapping as a plain
# path entry; a new module is found as before (the links are to the directories).
venv_dir=$(cd "$VENV" && pwd)  # STEPBOX_VENV may be relative or absolute
links="$venv_dir/stepbox-links"
rm -rf "$links"
mkdir -p "$links/stepbox"
ln -s "$PWD/toplevel/__init__.py" "$PWD/toplevel/__main__.py" "$links/stepbox/"
ln -s "$PWD/core" "$PWD/backends" "$links/stepbox/"
hook_pth=$("$VENV/bin/python" -c 'import glob, sysconfig
print(*glob.glob(sysconfig.get_path("purelib") + "/__editable__.stepbox-*.pth"))')
if [ -n "$hook_pth" ] && [ -f "$hook_pth" ]; then
    echo "$links" >"$hook_pth"  # the same file, so that pip uninstall still removes it
fi
# pip's console script imports re (with enum and collections) only to tidy argv[0] on Windows;
# that was most of what `stepbox --version` costs beyond a bare interpreter.  The same script
# without it (the CLI names itself "stepbox" whatever argv[0] says):
cat >"$VENV/bin/stepbox" <<EOF
#!$venv_dir/bin/python
import sys

from stepbox.core.cli.entry import main

if __name__ == "__main__":
    sys.exit(main())
EOF

# -- Pyodide, for tests/pyodide ------------------------------------------------------------------
# The test runs the simulator inside Pyodide (CPython compiled to WebAssembly) under
# Node, offline: the npm package `pyodide` and the wheels the test installs into it
# with micropip (micropip itself -- the version this Pyodide ships, not in the npm
# package -- and hypothesis with its pure-Python dependencies) are fetched now, into
# .pyodide/ (git-ignored).  Again only when the version below changes.
PYODIDE_VERSION=0.29.5
PYODIDE_MICROPIP=0.11.1
PYODIDE_DIR=.pyodide
if command -v node >/dev/null && command -v npm >/dev/null; then
    if [ "$(cat "$PYODIDE_DIR/installed" 2>/dev/null)" != "pyodide $PYODIDE_VERSION" ]; then
        say "installing Pyodide $PYODIDE_VERSION (npm) and the wheels its test uses into $PYODIDE_DIR"
        rm -rf "$PYODIDE_DIR"
        mkdir -p "$PYODIDE_DIR/wheels"
        # Node trusts only its own CA list; the system's (where a site's proxy CA is) by this
        if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
            export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
        fi
        # Only a test needs it: a failure here is said, and the install goes on
        if npm install --prefix "$PYODIDE_DIR" --no-audit --no-fund --silent "pyodide@$PYODIDE_VERSION" &&
            "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
                --platform any --implementation py --abi none --python-version 3.13 -d "$PYODIDE_DIR/wheels" \
                "micropip==$PYODIDE_MICROPIP" hypothesis attrs sortedcontainers; then
            echo "pyodide $PYODIDE_VERSION" > "$PYODIDE_DIR/installed"
        else
            say "could not fetch Pyodide (see above): tests/pyodide will skip, saying so"
        fi
    fi
else
    say "no node and npm here: tests/pyodide will skip (as root, this script installs Debian's nodejs and npm)"
fi

# -- stepbox on PATH ------------------------------------------------------------------------------
launcher="$HOME/.local/bin/stepbox"
target="$PWD/$VENV/bin/stepbox"
if [ "${STEPBOX_NO_LAUNCHER:-}" != 1 ]; then
    if [ -e "$launcher" ] && [ ! -L "$launcher" ]; then
        say "$launcher exists and is not a link of ours: left alone"
    else
        mkdir -p "$(dirname "$launcher")"
        ln -sfn "$target" "$launcher"
    fi
fi
case ":$PATH:" in
    *":$HOME/.local/bin:"*) on_path="it is on your PATH" ;;
    *) on_path="add ~/.local/bin to your PATH to use it" ;;
esac
say "done. In this shell:  . $VENV/bin/activate   (then: stepbox --help)"
if [ -L "$launcher" ] && [ "$(readlink "$launcher")" = "$target" ]; then
    say "in new shells: $launcher -> $target ($on_path), or activate the venv again"
fi
