#!/bin/sh
# Install Debian's headless Java 17 runtime when `java` is missing (the Spark engine's
# tests run a real Spark in local mode and a standalone master and worker).
set -e
if command -v java >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "Installing Java 17 (Debian package openjdk-17-jre-headless) for the Spark tests..."
$SUDO apt-get update -qq
# Debian's Java post-install scripts expect the man page folder to exist.
$SUDO mkdir -p /usr/share/man/man1
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
command -v java >/dev/null 2>&1
