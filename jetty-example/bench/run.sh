#!/bin/sh
# Runs the cold two-node cluster benchmark (io.kvmfilter.example.jetty.ClusterBenchmark) and prints a Markdown
# report: two packaged servers in one Hazelcast cluster, 100 images, 32 clients, then both restarted.
#
# Needs: a prior `./mvnw -B -q install -DskipTests` at the repository root (the packaged jetty-example.jar) and a
# usable /dev/kvm. Arguments go to the program: --images=100 --clients=32 --corpus=/work/shared/corpus
# Progress goes to stderr, the report to stdout:  jetty-example/bench/run.sh > report.md
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
module="$root/jetty-example"
cp_file="$module/target/bench-classpath.txt"

(cd "$root" && ./mvnw -B -q -pl jetty-example test-compile dependency:build-classpath \
    -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test) >&2

cd "$module"
exec java -cp "$module/target/test-classes:$(cat "$cp_file")" io.kvmfilter.example.jetty.ClusterBenchmark "$@"
