#!/usr/bin/env bash
# Prints what the failed tests printed. Surefire and failsafe keep each test class's output in
# target/*-reports/<class>-output.txt (redirectTestOutputToFile, so a green build log stays quiet); after a red
# build this shows the end of it for every class whose report has a failure or an error.
cd "$(dirname "$0")/.."
for report in */target/surefire-reports/TEST-*.xml */target/failsafe-reports/TEST-*.xml; do
    [[ -f $report ]] || continue
    grep -q '<failure\|<error' "$report" || continue
    class=$(basename "$report" .xml)
    class=${class#TEST-}
    output=$(dirname "$report")/$class-output.txt
    echo "== output of $class (last 200 lines of $output)"
    if [[ -f $output ]]; then tail -n 200 "$output"; else echo "(it printed nothing)"; fi
done
