#!/usr/bin/env bash
# Install stepbox and everything its tests need, on a fresh machine.
#  - as root on Debian/Ubuntu: the host packages the real-kernel tests use
#    (busybox-static is the base image; runc, docker.io, docker-registry and
#    skopeo are the real things the interop tests and benchmarks compare to;
#    chromium and CJK fonts for the test that opens a notebook in JupyterLab);
#  - everywhere: stepbox itself, editable, with its test dependencies and what
#    the notebooks need (the tests execute every notebook).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(busybox-static runc iproute2 nftables docker-compose docker.io docker-registry skopeo chromium fonts-noto-cjk)

if [ "$(uname -s)" = Linux ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing host packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
fi

python3 -m pip install -q --disable-pip-version-check -e '.[test,notebooks]'
