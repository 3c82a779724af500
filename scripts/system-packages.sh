#!/usr/bin/env bash
# Install the Debian packages mai and its tests need, when any is missing.
#   libportaudio2  microphone capture (sounddevice)
#   espeak-ng, sox real speech for the voice tests
#   tmux           end-to-end tests and benchmarks drive the real app in a terminal
#   chromium, chromium-driver  the `mai serve` test opens the app in a real headless browser
set -euo pipefail
packages=(libportaudio2 espeak-ng sox tmux chromium chromium-driver)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "system-packages: please install: ${missing[*]} (no apt-get here)" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then sudo="sudo"; else
    echo "system-packages: need root to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "system-packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
