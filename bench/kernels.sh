#!/usr/bin/env bash
# JMH benchmarks of the kernels (bench/src/main/java/org/slm4j/bench).
#   bench/kernels.sh                                  every type, batch 1 and 64, 2 threads
#   bench/kernels.sh -p type=Q4_0 -p batch=1 -p threads=1   any JMH options after the script name
# Prints ms per matmul; divide the weight bytes by it for the bandwidth a decode step reaches.
set -euo pipefail
cd "$(dirname "$0")/.."
source bin/java-env
slm4j_find_java
jar=bench/target/benchmarks.jar
if [ ! -f "$jar" ] || [ -n "$(find core/src/main bench/src -newer "$jar" -name '*.java' -print -quit)" ]; then
  mvn -q -o install -pl core,bench -DskipTests >&2 || mvn -q install -pl core,bench -DskipTests >&2
fi
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -jar "$jar" MatmulBenchmark "$@"
