#!/bin/sh
# Update the vendored Chart.js: tools/update_chartjs.sh [version]   (default: latest 4.x)
set -eu
VERSION="${1:-4}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/core/kyklos/web/static/vendor/chartjs"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack "chart.js@$VERSION" >/dev/null
tar xzf chart.js-*.tgz
EXACT="$(node -p 'require("./package/package.json").version')"
cp package/dist/chart.umd.min.js "$DEST/chart.umd.min.js"
cp package/LICENSE.md "$DEST/LICENSE.md"
sed -i "s/^- Version: \*\*[^*]*\*\*/- Version: **$EXACT**/" "$DEST/README.md"
echo "Chart.js $EXACT copied to $DEST"
