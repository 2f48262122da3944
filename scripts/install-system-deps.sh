#!/usr/bin/env bash
# Installs the Debian packages Parley's tests need. Idempotent: a package that is
# already installed is skipped, so a warm machine spends a second here.
#   chromium        real-browser WebRTC tests (driven by playwright-core, never downloaded)
#   coturn          TURN relay tests (TURN REST API credentials)
#   espeak-ng, sox  fake-microphone WAV files for the browser tests
#   postgresql      the PostgreSQL storage engine when none answers on 127.0.0.1:5432
#   redis-server    the Redis adapter tests when none answers on 127.0.0.1:6379
#   iproute2        `ip` inside the loopback-only network namespace of the media tests
#   libpocketsphinx3, pocketsphinx-en-us  the embedded speech engine (loaded through koffi) and its English model
#   pocketsphinx    pocketsphinx_continuous, the offline baseline the speech tests compare the streaming path with
#   pocketsphinx-testdata  LibriVox clips with transcripts: real human speech for the speech tests and bench
#   fonts-nanum     Hangul glyphs, so the Korean pages' screenshots show text, not boxes
#   ffmpeg          mixes recordings into MP4 (the server needs it too) and ffprobe measures them in tests
#   haproxy         the load balancer in front of the cluster tests' nodes (deploy/haproxy.cfg)
#   docker-compose  `docker-compose config` checks compose.yml without a Docker daemon
#   janus           the Janus VideoRoom that `npm run bench:sfu` measures beside Parley (the bench also installs it itself)
set -euo pipefail

packages=(chromium coturn espeak-ng sox postgresql redis-server iproute2 util-linux libpocketsphinx3 pocketsphinx-en-us pocketsphinx pocketsphinx-testdata fonts-nanum ffmpeg haproxy docker-compose janus)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[system-deps] all present: ${packages[*]}"
  exit 0
fi

echo "[system-deps] installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# coturn's Debian package enables a system service; the tests start their own instance.
echo "[system-deps] done"
