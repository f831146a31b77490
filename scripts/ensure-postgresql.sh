#!/bin/sh
# Install Debian's PostgreSQL server binaries when they are missing: the tests start a
# throwaway server of their own (tests/_postgres.py), so no cluster is created or
# started here and nothing listens after the tests.
set -e
for dir in /usr/lib/postgresql/*/bin; do
  if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
    exit 0
  fi
done
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "Installing PostgreSQL (Debian package) for the tests against a real server..."
$SUDO apt-get update -qq
# policy-rc.d 101: the package must not start its own cluster service.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  REMOVE_POLICY=1
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
if [ -n "$REMOVE_POLICY" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; fi
ls /usr/lib/postgresql/*/bin/initdb >/dev/null
