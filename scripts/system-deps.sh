#!/usr/bin/env bash
# Debian packages the letters need: CJK fonts (Noto CJK, and HanaMin for rare characters such as 𠀀 in
# names), HarfBuzz subsetting (without it a Chinese PDF takes ~11 s instead of ~0.2 s), poppler (pdftotext,
# pdfsig, pdftoppm) and Pango. The browser tests (make test-e2e) drive Debian's Chromium at /usr/bin/chromium,
# never a browser downloaded by Playwright. Installed when root, else the exact apt command is printed.
set -u
packages=(fonts-noto-cjk fonts-hanazono libharfbuzz-subset0 poppler-utils libpango-1.0-0 libpangoft2-1.0-0)
# Chromium only where the tests would not find it (at the path they launch).
[ -x /usr/bin/chromium ] || packages+=(chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "WARNING: not a Debian system; install the equivalents of: ${missing[*]}" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { echo "ERROR: apt-get install failed" >&2; exit 1; }
else
  echo "WARNING: missing Debian packages; letters will not render properly (or browser tests run) until you run:" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
fi
