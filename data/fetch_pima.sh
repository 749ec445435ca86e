#!/usr/bin/env bash
# Rebuilds data/diabetes.arff (the Pima Indians diabetes set) from Debian 12's weka package
# (3.6.14-3), unchanged. Anneal reads ARFF directly (models/pima_diabetes.yaml).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download weka >/dev/null && dpkg -x weka_*.deb root)
cp "$work/root/usr/share/doc/weka/examples/diabetes.arff" "$here/diabetes.arff"
sha256sum "$here/diabetes.arff"
