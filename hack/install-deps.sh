#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine (idempotent, quick when done):
# Debian packages for the loopback services the tests start, and checks the toolchains.
# Runs as root on CI (apt-get works as is); elsewhere it uses sudo when available.
set -euo pipefail

need_cmds=(go jq openssl curl git kubectl nginx fcgiwrap htpasswd /usr/sbin/sshd ssh ssh-keygen)
# Debian packages, by the command that proves they are installed.
declare -A apt_pkgs=(
  [jq]=jq
  [openssl]=openssl
  [curl]=curl
  [git]=git
  [pkg-config]=pkg-config
  # Loopback Git servers for the source-controller tests (crates/testkit/src/git_server.rs):
  # git http-backend behind nginx + fcgiwrap with htpasswd basic auth, and sshd.
  [nginx]=nginx-light
  [fcgiwrap]=fcgiwrap
  [htpasswd]=apache2-utils
  [/usr/sbin/sshd]=openssh-server
  [ssh-keygen]=openssh-client
  # Loopback OCI registry for the OCIRepository tests (crates/testkit/src/registry.rs).
  [/usr/bin/docker-registry]=docker-registry
  # Peak memory of the reference side in `cargo xtask bench` (GNU time's -v report).
  [/usr/bin/time]=time
  # PGP keys for the kustomize-controller SOPS tests.
  [gpg]=gnupg
  # Real NATS server for the notification-controller's nats provider test.
  [/usr/sbin/nats-server]=nats-server
  # Real SOCKS5 proxy for the GitRepository proxySecretRef tests.
  [microsocks]=microsocks
)

missing=()
for cmd in "${!apt_pkgs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${apt_pkgs[$cmd]}")
done
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  # Keep package postinst scripts from starting system services (nginx on :80, sshd...).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Loopback S3 server for the Bucket tests (crates/testkit/src/s3.rs): moto in its own venv.
moto_venv="${HOME}/.cache/ferroflux/moto-venv"
if [ ! -x "$moto_venv/bin/moto_server" ]; then
  echo "install-deps: installing moto[server] into $moto_venv" >&2
  python3 -m venv "$moto_venv"
  "$moto_venv/bin/pip" install -q 'moto[server]==5.2.5'
fi

# The reference sops and age-keygen for the kustomize-controller SOPS tests (Go modules).
"$(dirname "$0")/build-sops.sh" >/dev/null
# The reference helm for the helm-controller tests (`helm history/rollback`), the chart
# rendering conformance test and `helm push` to the OCI registry (a Go module).
"$(dirname "$0")/build-helm.sh" >/dev/null
# The reference cosign for the source-controller's signature verification tests (a Go module).
"$(dirname "$0")/build-cosign.sh" >/dev/null

for cmd in "${need_cmds[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "install-deps: required command '$cmd' is missing" >&2; exit 1; }
done
echo "install-deps: ok" >&2
