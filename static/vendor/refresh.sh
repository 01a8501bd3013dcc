#!/usr/bin/env bash
# Re-download the vendored front-end packages at the exact versions below with
# `npm pack` (no node_modules, no lockfile) and copy the same files into place.
# Run from anywhere:  bash static/vendor/refresh.sh
# Set GDS_TRANSPORT=1 to keep the GDS Transport typeface (only allowed on GOV.UK
# services; see README.md). Default 0 swaps it for Arial in the CSS.
set -euo pipefail

GOVUK_FRONTEND=5.9.0
LEAFLET=1.9.4
MARKERCLUSTER=1.5.3
JQUERY=3.8.0
CHARTJS=4.6.1
AXE=4.14.1
GDS_TRANSPORT="${GDS_TRANSPORT:-0}"

VENDOR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

unpack() {  # unpack NAME VERSION -> prints the extracted package dir
  local name="$1" version="$2" tgz
  tgz="$(cd "$WORK" && npm pack --silent "${name}@${version}" | tail -n1)"
  mkdir -p "$WORK/$name"
  tar -xzf "$WORK/$tgz" -C "$WORK/$name"
  echo "$WORK/$name/package"
}

fresh() { rm -rf "$VENDOR/$1"; mkdir -p "$VENDOR/$1"; }

# --- govuk-frontend -------------------------------------------------------
pkg="$(unpack govuk-frontend "$GOVUK_FRONTEND")"
fresh govuk-frontend
cp "$pkg/dist/govuk/govuk-frontend.min.css" "$pkg/dist/govuk/govuk-frontend.min.js" "$VENDOR/govuk-frontend/"
cp -R "$pkg/dist/govuk/assets" "$VENDOR/govuk-frontend/assets"
# The precompiled CSS points at /assets/... (site root). Make it relative so it
# resolves to static/vendor/govuk-frontend/assets/ wherever the CSS is served.
sed -i 's#url(/assets/#url(assets/#g' "$VENDOR/govuk-frontend/govuk-frontend.min.css"
if [ "$GDS_TRANSPORT" != "1" ]; then
  # Not a GOV.UK service: use Arial instead of the restricted GDS Transport face.
  sed -i 's#font-family:GDS Transport,arial,sans-serif#font-family:arial,sans-serif#g' \
    "$VENDOR/govuk-frontend/govuk-frontend.min.css"
fi
# The npm tarball ships no licence file; this is alphagov/govuk-frontend LICENSE.txt.
cat > "$VENDOR/govuk-frontend/LICENSE.txt" <<'LICENCE'
The MIT License (MIT)

Copyright (C) 2017 Crown Copyright (Government Digital Service)

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
LICENCE

# --- leaflet ---------------------------------------------------------------
pkg="$(unpack leaflet "$LEAFLET")"
fresh leaflet
cp "$pkg/dist/leaflet.js" "$pkg/dist/leaflet.css" "$pkg/LICENSE" "$VENDOR/leaflet/"
cp -R "$pkg/dist/images" "$VENDOR/leaflet/images"

# --- leaflet.markercluster ---------------------------------------------------
pkg="$(unpack leaflet.markercluster "$MARKERCLUSTER")"
fresh leaflet.markercluster
cp "$pkg/dist/leaflet.markercluster.js" "$pkg/dist/MarkerCluster.css" \
   "$pkg/dist/MarkerCluster.Default.css" "$pkg/MIT-LICENCE.txt" "$VENDOR/leaflet.markercluster/"

# --- jquery ----------------------------------------------------------------
pkg="$(unpack jquery "$JQUERY")"
fresh jquery
cp "$pkg/dist/jquery.min.js" "$pkg/LICENSE.txt" "$VENDOR/jquery/"

# --- chart.js --------------------------------------------------------------
pkg="$(unpack chart.js "$CHARTJS")"
fresh chartjs
cp "$pkg/dist/chart.umd.js" "$pkg/LICENSE.md" "$VENDOR/chartjs/"

# --- axe-core --------------------------------------------------------------
pkg="$(unpack axe-core "$AXE")"
fresh axe-core
cp "$pkg/axe.min.js" "$pkg/LICENSE" "$pkg/LICENSE-3RD-PARTY.txt" "$VENDOR/axe-core/"

# Source maps are not vendored; drop the trailing comments so browsers' dev
# tools do not request missing .map files.
for f in "$VENDOR"/govuk-frontend/govuk-frontend.min.{css,js} "$VENDOR"/leaflet/leaflet.js \
         "$VENDOR"/leaflet.markercluster/leaflet.markercluster.js "$VENDOR"/jquery/jquery.min.js \
         "$VENDOR"/chartjs/chart.umd.js "$VENDOR"/axe-core/axe.min.js; do
  sed -i -E 's#/[/*][#@] sourceMappingURL=[^ *]*( \*/)?$##' "$f"
done

echo "Vendored into $VENDOR:"
(cd "$VENDOR" && find . -type f ! -name README.md ! -name refresh.sh | sort)
