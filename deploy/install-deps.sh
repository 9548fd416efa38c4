#!/usr/bin/env bash
# Installs what cshield needs on Debian 12 (bookworm): compilers, CMake, the
# -dev packages of its libraries, redis-server, kcat, clang (fuzzing), a JDK
# and Maven (the local Kafka broker). Idempotent: packages already installed
# are not touched, and apt-get runs only when something is missing.
set -euo pipefail

pkgs=(build-essential cmake ninja-build pkg-config git ca-certificates
      librdkafka-dev libhiredis-dev libzstd-dev liblz4-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev
      redis-server redis-tools kcat clang
      chromium poppler-utils python3-venv          # report tests: headless rendering, PDF text, stix2-validator
      file dpkg-dev python3-yaml systemd openssl           # the Debian package (cpack), the deployment files' checks
      libsimdjson-dev)                           # bench baseline only (cshield-bench decode)
case "$(dpkg --print-architecture)" in
amd64) pkgs+=(libhyperscan-dev) ;;        # Hyperscan needs x86-64
*)     pkgs+=(libvectorscan-dev) ;;       # same libhs API on other CPUs
esac
# Java 17+ and Maven, unless the machine already has them
java_ok=0
if command -v java >/dev/null 2>&1; then
	v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
	[ "${v:-0}" -ge 17 ] && java_ok=1
fi
[ "$java_ok" = 1 ] || pkgs+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || pkgs+=(maven)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "[cshield] dependencies already installed"
	exit 0
fi
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "[cshield] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "[cshield] dependencies installed"
