#!/bin/sh
# Runs the servlet filter benchmark (io.kvmfilter.filter.bench.FilterBenchmark) and prints a Markdown report.
#
# Needs: a prior `./mvnw -B -q install -DskipTests` at the repository root (kvm-binding's jar with the native
# library and the webp/minify programs in the local Maven repository), wrk (`apt-get install -y wrk`) and a
# usable /dev/kvm. Arguments go to the program: --duration=10 --warmup=3 --connections=1,16,64 --concurrency=2
# --cases=json,jpeg,fallback,json-cached,jpeg-cached --corpus=/work/shared/corpus
# Progress goes to stderr, the report to stdout:  filter-core/bench/run.sh > report.md
# BENCH=FloodBenchmark runs the overload scenario instead (--flood=250 --duration=30 --flat --no-filter).
# BENCH=MemoryBenchmark measures memory during and after an image load (--clients=4 --load=60 --after=180).
# JAVA_OPTS adds JVM options (e.g. "-Xms1g -XX:+AlwaysPreTouch": the whole heap resident from the start).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
module="$root/filter-core"
cp_file="$module/target/bench-classpath.txt"

command -v wrk >/dev/null 2>&1 || { echo "run.sh: wrk is not installed: apt-get install -y wrk" >&2; exit 1; }

# Compile the benchmark (a test-scope class, so the Jetty test dependencies are there) and list the class path.
# Tomcat is left out: its jar carries Servlet 6.1 classes that would shadow the 6.0 API Jetty 12 ee10 runs with.
(cd "$root" && ./mvnw -B -q -pl filter-core test-compile dependency:build-classpath \
    -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test \
    -Dmdep.excludeArtifactIds=tomcat-embed-core) >&2

exec java -Xms256m -Xmx1g ${JAVA_OPTS:-} -cp "$module/target/test-classes:$module/target/classes:$(cat "$cp_file")" \
    "io.kvmfilter.filter.bench.${BENCH:-FilterBenchmark}" "$@"
