#!/usr/bin/env bash
# Tokenizer encode speed on the KJV text: slm4j beside jtokkit (cl100k_base) and HF tokenizers via DJL
# (Llama 2), in one JVM, median MB/s over ROUNDS rounds. Needs ../shared beside the checkout.
#   bench/tokenize.sh [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/bin/java-env"
slm4j_find_java
cd "$root"
mvn -q -o -pl core -DskipTests install 2>/dev/null || mvn -q -pl core -DskipTests install
mvn -q -pl core dependency:build-classpath -Dmdep.outputFile="$root/core/target/bench-classpath.txt" -Dmdep.includeScope=test
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "core/target/classes:core/target/test-classes:$(cat core/target/bench-classpath.txt)" \
  org.slm4j.tokenizer.TokenizeBenchmark "${SLM4J_SHARED:-$root/../shared}" "${1:-7}" 2> >(grep -v 'incubator' >&2)
