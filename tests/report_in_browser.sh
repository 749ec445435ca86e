#!/usr/bin/env bash
# Renders each kind of `anneal report` page (sweep, tune study, cv) in headless Chromium. Passes
# when every page is self-contained (no script, no external reference), loads with no console
# message, and its screenshot has coloured ink (the plotted series and bands) and dark ink (text).
# First it shows that the console check can fail: a page that logs an error must be caught.
#   tests/report_in_browser.sh ANNEAL_BINARY SOURCE_DIR PNG_INK_BINARY
set -euo pipefail
anneal=$1
source_dir=$2
png_ink=$3
command -v chromium >/dev/null || { echo "chromium is not installed: run scripts/setup.sh --tests" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# render PAGE PNG: the page's console messages go to PAGE.console.
render() {
  timeout 120 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --enable-logging=stderr --v=0 --window-size=1240,2400 \
    --screenshot="$2" "file://$work/$1" >"$1.out" 2>&1 || { cat "$1.out" >&2; echo "chromium failed on $1" >&2; exit 1; }
  grep ':CONSOLE' "$1.out" >"$1.console" || true
  [ -s "$2" ] || { echo "no screenshot of $1" >&2; exit 1; }
}

echo '<!DOCTYPE html><html><body><p>x</p><script>console.error("planted error")</script></body></html>' > planted.html
render planted.html planted.png
grep -q 'planted error' planted.html.console || { echo "the console check does not see a planted console.error" >&2; exit 1; }
# And the ink check can fail: a page of text alone has no coloured ink.
read -r _ planted_coloured _ < <("$png_ink" planted.png)
((planted_coloured < 400)) || { echo "png_ink counts $planted_coloured coloured pixels on a page of plain text" >&2; exit 1; }

model=$source_dir/models/ionosphere.yaml
cat > space.yaml <<SPACE
version: 1
space:
  optimizer.momentum: {choice: [0.0, 0.9]}
  schedule.type:
    choice:
      - step_decay: {lr: {log_uniform: [0.01, 0.3]}, drop: {uniform: [0.3, 0.7]}}
      - constant: {lr: {log_uniform: [0.01, 0.3]}}
SPACE
"$anneal" sweep "$model" --schedule "$source_dir/schedules/step_decay.yaml" --schedule "$source_dir/schedules/time_based.yaml" \
  --seeds 3 --epochs 12 -j 2 -o sweep >/dev/null
"$anneal" tune "$model" --space space.yaml --max-epochs 9 --trials 15 --confirm 3 -j 2 -o study >/dev/null
"$anneal" cv "$model" --folds 3 --seeds 2 --epochs 5 -o cv.csv >/dev/null
for kind in sweep study cv; do
  input=$kind
  [ "$kind" = cv ] && input=cv.csv
  "$anneal" report "$input" -o "$kind.html" >/dev/null
  if grep -Eiq '<script|src=|href=|url\(|@import' "$kind.html"; then
    echo "$kind.html is not self-contained: $(grep -Eio '<script|src=[^ ]*|href=[^ ]*|url\([^)]*\)|@import' "$kind.html" | head -3)" >&2
    exit 1
  fi
  render "$kind.html" "$kind.png"
  if [ -s "$kind.html.console" ]; then
    echo "$kind.html logged to the console:" >&2
    cat "$kind.html.console" >&2
    exit 1
  fi
  read -r _ coloured _ dark _ pixels < <("$png_ink" "$kind.png")
  echo "$kind: $coloured coloured and $dark dark pixels of $pixels"
  # A plot panel's curves and dots come to hundreds or thousands of coloured pixels; a page whose SVG
  # did not render has none (tables and text are black and grey).
  ((coloured >= 400)) || { echo "$kind.png: only $coloured coloured pixels: the plots did not render" >&2; exit 1; }
  ((dark >= 2000)) || { echo "$kind.png: only $dark dark pixels: the text did not render" >&2; exit 1; }
done
