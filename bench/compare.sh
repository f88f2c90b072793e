#!/usr/bin/env bash
# Measures slm4j against llama.cpp's llama-bench on the same random-weight models, side by side, and writes
# docs/PERFORMANCE.md. The two engines take turns, one repetition each, so a noisy shared machine slows both alike.
#
#   bench/compare.sh [SHAPE:TYPE ...]     default: all of stablelm-2-1_6b tinyllama-1_1b danube-1_8b × f16 q8_0 q4_0 q4_k_m
#                                         (q4_k_m, or any other quantize type: quantized from the shape's F16 file)
#
# Environment: SLM4J_BENCH_DIR (models and raw results, default ~/.cache/slm4j-bench, outside the repository),
# LLAMA_BENCH (default ~/.cache/slm4j-anchor/llama.cpp/build/bin/llama-bench, built by llamacpp-anchor.sh; skipped
# when absent), P N R T (default 512 128 5 2), BANDWIDTH_GBS (default 39, measured on the 2-core reference machine),
# D (default 0: none): also generate N tokens after D tokens in the cache (both benches' -d), in the same turns.
# AVX2=1: both engines held to AVX2, as on the 2-core reference machine: slm4j's JIT to 256-bit vectors and 16
# registers (-XX:UseAVX=2), llama-bench from a build without AVX-512 (made from the anchor's source when absent).
# Such results form a table of their own. SLM4J_JAVA_OPTS: more JVM options for slm4j, as bin/slm4j takes them.
# Results accumulate in $SLM4J_BENCH_DIR/results.jsonl; the document shows each model's latest run.
# REPORT_ONLY=1 only rewrites the document from the results so far.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${SLM4J_BENCH_DIR:-$HOME/.cache/slm4j-bench}
llama=${LLAMA_BENCH:-$HOME/.cache/slm4j-anchor/llama.cpp/build/bin/llama-bench}
P=${P:-512} N=${N:-128} R=${R:-5} T=${T:-2} D=${D:-0}
setup=native jvm=(${SLM4J_JAVA_OPTS:-})
if [[ -n ${AVX2:-} ]]; then
  (( D == 0 )) || { echo "compare.sh: AVX2=1 tables no long-context runs; run D without AVX2" >&2; exit 2; }
  setup=avx2 jvm+=(-XX:UseAVX=2)
  anchor=$HOME/.cache/slm4j-anchor/llama.cpp
  llama=${LLAMA_BENCH:-$anchor/build-avx2/bin/llama-bench}
  if [[ ! -x $llama && -f $anchor/CMakeLists.txt ]]; then
    echo "compare.sh: building llama-bench without AVX-512 in $anchor/build-avx2 ..." >&2
    cmake -S "$anchor" -B "$anchor/build-avx2" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON \
      -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
      -DLLAMA_BUILD_SERVER=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_BUILD_TESTS=OFF \
      -DLLAMA_BUILD_APP=OFF -DBUILD_SHARED_LIBS=ON >/dev/null
    cmake --build "$anchor/build-avx2" -j"$(nproc)" --target llama-bench >/dev/null
  fi
fi
results=$dir/results.jsonl
mkdir -p "$dir"
models=("$@")
if (( ${#models[@]} == 0 )) && [[ -z ${REPORT_ONLY:-} ]]; then
  for s in stablelm-2-1_6b tinyllama-1_1b danube-1_8b; do for t in f16 q8_0 q4_0 q4_k_m; do models+=("$s:$t"); done; done
fi
# a fresh jar: the shade plugin, run over an earlier shaded jar, can keep that jar's stale copies of core's classes
# (and run that jar directly: bin/slm4j would rebuild in the middle of a run when a source file changes)
source "$root/bin/java-env"
slm4j_find_java
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [[ -z ${REPORT_ONLY:-} ]]; then
  # a copy, so that building in the checkout meanwhile does not change the jar under a running benchmark
  (cd "$root" && rm -f cli/target/slm4j-all.jar && mvn -q -DskipTests package >&2)
  cp "$root/cli/target/slm4j-all.jar" "$tmp/slm4j.jar"
else
  models=()
fi
# the flags bin/slm4j runs with
slm4j=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xmn32m -XX:MaxRAMPercentage=75
       $(grep -qs '\[\(always\|madvise\)\]' /sys/kernel/mm/transparent_hugepage/enabled && echo -XX:+UseTransparentHugePages)
       ${jvm[@]+"${jvm[@]}"} -jar "$tmp/slm4j.jar")
run=$(date -u +%Y-%m-%dT%H:%M:%SZ)

rss_kb() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

for m in ${models[@]+"${models[@]}"}; do
  shape=${m%%:*} type=${m##*:}
  file=$dir/$shape-$type.gguf
  if [[ ! -f $file ]]; then
    case $type in
      f32|f16|q8_0|q4_0) "${slm4j[@]}" create-random --shape "$shape" --type "$type" -o "$file" >&2 ;;
      *)  # a quantize mix (q4_k_m: llama-quantize's Q4_K and Q6_K) of the shape's random F16 file
        f16=$dir/$shape-f16.gguf
        [[ -f $f16 ]] || "${slm4j[@]}" create-random --shape "$shape" --type f16 -o "$f16" >&2
        "${slm4j[@]}" quantize "$f16" "$file" --type "$type" >&2 ;;
    esac
  fi
  for ((rep = 1; rep <= R; rep++)); do
    echo "== $shape $type, repetition $rep of $R" >&2
    /usr/bin/time -v -o "$tmp/time" "${slm4j[@]}" bench -m "$file" -p "$P" -n "$N" -r 1 -t "$T" --json > "$tmp/out"
    jq -c --arg run "$run" --arg setup "$setup" --arg shape "$shape" --arg type "$type" --argjson rss "$(rss_kb "$tmp/time")" \
      '{run: $run, setup: $setup, engine: "slm4j", shape: $shape, type: $type, pp: .pp.tok_s, tg: .tg.tok_s, rss_kb: $rss}' \
      "$tmp/out" >> "$results"
    if [[ -x $llama ]]; then
      /usr/bin/time -v -o "$tmp/time" "$llama" -m "$file" -p "$P" -n "$N" -r 1 -t "$T" -o json > "$tmp/out" 2> "$tmp/err" \
        || { cat "$tmp/err" >&2; exit 1; }
      jq -c --arg run "$run" --arg setup "$setup" --arg shape "$shape" --arg type "$type" --argjson rss "$(rss_kb "$tmp/time")" \
        '{run: $run, setup: $setup, engine: "llama.cpp", shape: $shape, type: $type,
          pp: (map(select(.n_prompt > 0)) | .[0].avg_ts), tg: (map(select(.n_gen > 0)) | .[0].avg_ts), rss_kb: $rss}' \
        "$tmp/out" >> "$results"
    fi
    tail -n 2 "$results" >&2
    if (( D > 0 )); then
      "${slm4j[@]}" bench -m "$file" -p 0 -n "$N" -d "$D" -r 1 -t "$T" --json > "$tmp/out"
      jq -c --arg run "$run" --arg setup "$setup" --arg shape "$shape" --arg type "$type" --argjson depth "$D" \
        '{run: $run, setup: $setup, engine: "slm4j", shape: $shape, type: $type, depth: $depth, tg: .tg.tok_s}' "$tmp/out" >> "$results"
      if [[ -x $llama ]]; then
        "$llama" -m "$file" -p 0 -n "$N" -d "$D" -r 1 -t "$T" -o json > "$tmp/out" 2> "$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
        jq -c --arg run "$run" --arg setup "$setup" --arg shape "$shape" --arg type "$type" --argjson depth "$D" \
          '{run: $run, setup: $setup, engine: "llama.cpp", shape: $shape, type: $type, depth: $depth, tg: .[0].avg_ts}' "$tmp/out" >> "$results"
      fi
      tail -n 2 "$results" >&2
    fi
  done
done

python3 - "$results" "$dir" "$P" "$N" "$T" "${BANDWIDTH_GBS:-39}" > "$root/docs/PERFORMANCE.md" <<'PY'
import json, os, statistics, sys
results, dir, P, N, T, bw = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
rows = [json.loads(l) for l in open(results) if l.strip()]
# results written before the setup field have none: they ran natively
avx2 = [r for r in rows if r.get("setup") == "avx2" and r.get("depth", 0) == 0]
rows = [r for r in rows if r.get("setup", "native") == "native"]
deep = [r for r in rows if r.get("depth", 0) > 0]
rows = [r for r in rows if r.get("depth", 0) == 0]
def cells(rows):
    """each shape and type's latest run, its results by engine"""
    latest, cell = {}, {}
    for r in rows: latest[(r["shape"], r["type"])] = max(latest.get((r["shape"], r["type"]), ""), r["run"])
    for r in rows:
        key = (r["shape"], r["type"])
        if r["run"] == latest[key]: cell.setdefault(key + (r["engine"],), []).append(r)
    return cell
cell = cells(rows)
shapes = ["stablelm-2-1_6b", "tinyllama-1_1b", "danube-1_8b"]
types = ["f16", "q8_0", "q4_0", "q4_k_m"]
# dims of each shape: vocab, dim (the embedding is looked up, one row a token; every other matrix is read whole)
embd = {"stablelm-2-1_6b": (100352, 2048), "tinyllama-1_1b": (32000, 2048), "danube-1_8b": (32000, 2560)}
bpe = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32, "q4_k_m": 144 / 256}   # q4_k_m: its embedding is Q4_K
med = lambda rs, k: statistics.median(r[k] for r in rs)
def fmt(rs, k): return f"{med(rs, k):.1f}" if rs else "–"
# each repetition's slm4j run and the llama.cpp run right after it saw the same minute of the machine
# (a run stopped between the two leaves one slm4j run unpaired at the end, which zip leaves out)
def ratio(a, b, k): return statistics.median(x[k] / y[k] for x, y in zip(a, b)) if a and b else None
def fmt_ratio(a, b, k): return "–" if ratio(a, b, k) is None else f"{ratio(a, b, k):.2f}"

print("# Performance: slm4j vs llama.cpp, side by side\n")
print("Generated by `bench/compare.sh` (do not edit by hand). Random-weight models with the real shapes")
print("(`slm4j create-random`, every matrix in the named type; q4_k_m: `slm4j quantize` of the F16 file, llama-quantize's")
print("mix of Q4_K and Q6_K, the type most downloaded models come in), "
      f"`slm4j bench -p {P} -n {N} -r 1 -t {T}` and `llama-bench -p {P} -n {N} -r 1 -t {T}` taking turns on the")
print("same file, repeated; each cell is the median of the repetitions, tokens/s. Ratio: the median over the")
print("repetitions of slm4j ÷ llama.cpp, each repetition's two runs back to back (the machine's speed drifts by the minute).")
print("pp = one batch of the prompt from an empty cache; tg = single-token steps. A dash: not measured. Both warm up")
print("first: llama-bench with one prompt and one step; slm4j with whole runs of the prompt and of the generation,")
print("each repeated while the JIT still compiled during the last (at most 3), so the measured runs use compiled code")
print("(with 8 warm-up steps, until 2026-11-25, a first tg repetition ran at 0.77-0.91 of the later ones).\n")
def ratios(cell, unmeasured=True):
    print("| shape | type | slm4j pp | llama.cpp pp | ratio pp | slm4j tg | llama.cpp tg | ratio tg | reps | measured |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for s in shapes:
        for t in types:
            a, b = cell.get((s, t, "slm4j"), []), cell.get((s, t, "llama.cpp"), [])
            if not a and not b:
                if unmeasured: print(f"| {s} | {t} | – | – | – | – | – | – | 0 | not measured |")
                continue
            print(f"| {s} | {t} | {fmt(a,'pp')} | {fmt(b,'pp')} | {fmt_ratio(a, b, 'pp')} | {fmt(a,'tg')} | {fmt(b,'tg')} | {fmt_ratio(a, b, 'tg')} "
                  f"| {len(a)} | {a[0]['run'] if a else b[0]['run']} |")
ratios(cell)
print(f"\n## Generation against the memory-bandwidth ceiling ({bw:g} GB/s, two threads)\n")
print("Weight bytes per token: every matrix except the embedding (one row of it per token); KV cache reads are")
print("left out (small at these lengths). Ceiling = bandwidth ÷ bytes per token.\n")
print(f"| shape | type | file GB | bytes/token GB | ceiling tok/s | slm4j tg share | llama.cpp tg share | time to first token, {P}-token prompt (slm4j / llama.cpp) | peak RSS MB (slm4j / llama.cpp) |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for s in shapes:
    for t in types:
        a, b = cell.get((s, t, "slm4j"), []), cell.get((s, t, "llama.cpp"), [])
        if not a and not b: continue
        f = os.path.join(dir, f"{s}-{t}.gguf")
        size = os.path.getsize(f)
        per_tok = size - embd[s][0] * embd[s][1] * bpe[t]
        ceil = bw * 1e9 / per_tok
        share = lambda rs: f"{med(rs, 'tg') / ceil:.0%}" if rs else "–"
        ttft = lambda rs: f"{P / med(rs, 'pp'):.1f} s" if rs else "–"
        rss = lambda rs: f"{max(r['rss_kb'] for r in rs) / 1024:.0f}" if rs else "–"
        print(f"| {s} | {t} | {size / 1e9:.2f} | {per_tok / 1e9:.2f} | {ceil:.1f} | {share(a)} | {share(b)} "
              f"| {ttft(a)} / {ttft(b)} | {rss(a)} / {rss(b)} |")
print("\nPeak RSS counts the mapped model pages each process touched (both map the file), plus for slm4j the JVM")
print("and its heap. Reproduce: `bench/compare.sh tinyllama-1_1b:q4_0 tinyllama-1_1b:q8_0` (or no arguments for all).")
print("Both engines are warm here. A process's first prompt also waits for the JVM's start, the JIT and the first use")
print("of each weight: docs/COLDSTART.md (`bench/coldstart.sh`) times whole `generate` runs against `llama-completion`.")
if deep:
    last = {}
    for r in deep: last[(r["shape"], r["type"], r["depth"])] = max(last.get((r["shape"], r["type"], r["depth"]), ""), r["run"])
    print("\n## Generation after a long context\n")
    print("The same single-token steps with the cache already holding the depth's tokens (`slm4j bench -p 0 -d D`,")
    print("`llama-bench -p 0 -d D`, filled before the clock starts): each step's attention reads every earlier key and")
    print("value, so here the KV cache weighs as much as the weights (StableLM's 32 KV heads: 0.39 GB per token at")
    print("1024 in slm4j's F32 cache, against 0.81 GB of Q4_0 weights; llama.cpp keeps its cache in F16). slm4j's")
    print("`--cache-type f16` halves that memory. Where one or two query heads share a KV head, a decoding query reads it")
    print("in place, converting in registers (the Vector API has no F16 conversion): StableLM Q4_0 at 1024, 26.9 tok/s")
    print("from F16 against 23.7 from F32 and llama.cpp's 21.1 (medians of three rounds taking turns, 2026-11-25; converted")
    print("through an array it had taken 13.2-16.0). Where more share one, the head is converted once for all of them, about")
    print("as fast as F32: TinyLlama Q4_0 (8 per KV head) at 1024, 38.7 tok/s from F16, 40.3 from F32. The table runs")
    print("slm4j's default F32 cache. Reproduce:")
    print("`D=1024 bench/compare.sh stablelm-2-1_6b:q4_0`.\n")
    print("| shape | type | depth | slm4j tg | llama.cpp tg | ratio tg | reps | measured |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for (s, t, dep), when in sorted(last.items(), key=lambda kv: (shapes.index(kv[0][0]), types.index(kv[0][1]), kv[0][2])):
        a = [r for r in deep if (r["shape"], r["type"], r["depth"], r["run"], r["engine"]) == (s, t, dep, when, "slm4j")]
        b = [r for r in deep if (r["shape"], r["type"], r["depth"], r["run"], r["engine"]) == (s, t, dep, when, "llama.cpp")]
        print(f"| {s} | {t} | {dep} | {fmt(a, 'tg')} | {fmt(b, 'tg')} | {fmt_ratio(a, b, 'tg')} | {len(a)} | {when} |")
if avx2:
    print("\n## On AVX2 alone\n")
    print("The 2-core reference machine has AVX2 and FMA, no AVX-512; where the machine at hand has AVX-512, both engines")
    print("are held to AVX2 for this table: slm4j's JIT with `-XX:UseAVX=2` (256-bit vectors and 16 registers), llama.cpp")
    print("built with `-DGGML_NATIVE=OFF -DGGML_AVX512=OFF` and AVX2, FMA, F16C and BMI2 on. Otherwise as the first table.")
    print("Reproduce: `AVX2=1 bench/compare.sh tinyllama-1_1b:f16` (or no arguments for all).\n")
    ratios(cells(avx2), unmeasured=False)
def behind(cell):
    """the cells whose ratio is under 1.00 as printed: (shape, type, 'pp' or 'tg', ratio)"""
    out = []
    for s in shapes:
        for t in types:
            a, b = cell.get((s, t, "slm4j"), []), cell.get((s, t, "llama.cpp"), [])
            for k in ("pp", "tg"):
                r = ratio(a, b, k)
                if r is not None and round(r, 2) < 1: out.append((s, t, k, r))
    return out
print("\n## Where slm4j is still behind\n")
print("The cells under 1.00 in the tables above:\n")
print("| where | shape | type | ratio pp | ratio tg |")
print("|---|---|---|---:|---:|")
for where, rows_ in (("native", behind(cell)), ("AVX2 alone", behind(cells(avx2)))):
    for s, t in dict.fromkeys((s, t) for s, t, _, _ in rows_):
        r = {k: f"{v:.2f}" for s2, t2, k, v in rows_ if (s2, t2) == (s, t)}
        print(f"| {where} | {s} | {t} | {r.get('pp', '')} | {r.get('tg', '')} |")
print("""
* **Q8_0 prompts.** They run `Gemm`'s float tile at the FMA's peak. llama.cpp multiplies int8 by int8 (`vpdpbusd`
  with VNNI, `vpmaddubsw` on AVX2: 64 and 32 products an instruction, against a float FMA's 16 and 8); JDK 25's
  Vector API has no integer dot product.
* **F16 prompts on AVX2.** The float tile (4 rows by 2 vectors) runs at about 80 % of the FMA's peak, llama.cpp's at
  84-90 %: C2 compiles it to 25 instructions per 8 FMAs, and every wider tile tried (below) spilled to the stack
  with 16 registers or was slower.
* **Q4_K_M generation** (on 2026-11-26 Danube 0.81-0.82 in both tables, the widest gap; TinyLlama and StableLM
  0.87-0.96). Q4_K
  lanes each follow one sub-block of 32 weights, so every sub-block's sum is scaled in floats on its own: its
  6-bit scale and min widened and multiplied by the super-block's d and dmin, about 38 vector operations per pass
  where Q4_0's one scale takes 16 (`BlockGroups.quadsK`: 17 % of a Danube Q4_K_M `tg` profile, `quadSums` 46 %,
  Q6_K's `q6K` 22 %). JMH, 16 matrices of 6912 x 2560 from memory on two threads: Q4_0 0.35 ms, Q4_K 0.40, for
  the same bytes. llama.cpp multiplies each sub-block's integer sum by its scale in integers (`vpmaddwd`) and
  converts once per super-block of 256. Doing the same here needs lanes that follow super-blocks (or rows) rather
  than sub-blocks: a new Q4_K layout, not yet built. Danube's 6912-column rows also fill 13.5 groups at AVX-512,
  so each row reads a padded half group (3.7 %).
* **Generation.** Bound by memory, whose speed here changes by the minute for both engines: five repetitions of
  AVX2 TinyLlama F16 on 2026-11-26 gave ratios of 0.69, 0.99, 1.45, 0.68 and 0.85 (both engines between 14 and
  21 tok/s). A `tg` cell under 1.00 is within that noise unless several runs agree.""")
print("""
## Reading the numbers

The machine is shared (other builds and tests run beside the benchmark), so single runs swing by 2x; only
ratios from one run mean much, and even they move by ±20 %. Where the gap comes from:

* **The machine.** It reports AVX-512 (with VNNI and BF16), not only AVX2: llama.cpp's CPU backend uses int8
  dot-product instructions there, and the JVM picks 512-bit vectors (`-Dslm4j.vectorBits` overrides).
  Its memory is faster than the 39 GB/s of the reference machine: a share above 100 % says so. Set
  BANDWIDTH_GBS to a bandwidth measured on the machine at hand for a true ceiling.
  On AVX2 alone (the table above; before the script took `AVX2=1`, two runs of three rounds by hand on 2026-11-25
  gave TinyLlama Q4_0 pp 1.21 and 1.16, tg 0.91 and 0.94; Q8_0 pp 0.98, tg 1.06; F16 pp 0.74 and 0.81, tg 0.78 and
  0.97) the gaps are F16 prompts and generation (and were Q4_0 generation, until 2026-11-26). F16 prompts (0.83 in another run, 77 vs 93
  tok/s): `Gemm`'s AVX2 float tile (4 rows by 2 vectors) runs near the FMA's peak: a loop of 12 independent 256-bit FMAs does 6.3
  per ns on a core, and a 2048 x 2048 F16 matmul of 512 positions 5.7 per ns per core (90 %) on one thread or
  two. llama.cpp's 93 tok/s is 90 GMAC/s, 90 % of both cores' peak over the whole prompt. With 5 rows C2 loaded
  all five broadcast weights first and spilled two accumulators (the prompt 2x slower); 3 rows by 3 vectors, or
  the weights interleaved by tile so that each broadcast is one register plus a constant, were no faster in the
  same process. The gain a microbenchmark had shown for 5 rows (and showed for 3 x 3) appears only without
  transparent huge pages.
* **Prompt processing.** llama.cpp multiplies int8 by int8 (`vpdpbusd` with VNNI, `vpmaddubsw` on AVX2: 32 to 64
  multiply-adds per instruction); the Vector API has no widening int8 multiply-add. slm4j's `tensor/Gemm` decodes
  each weight row once per matmul into exact integers, transposes the prompt once (shared by Q/K/V and by
  gate/up), and runs register tiles. Q4_0 tiles are 12 rows × 64 positions on AVX-512 (4 rows on AVX2; two vectors per broadcast weight) of
  16-bit multiplies and adds: a block's products (|q_w| <= 8, |q_x| <= 127) sum to at most 32512, so a 16-bit lane
  holds the block's exact sum until one conversion and one scale per block, with about 3 times the products per
  second of float FMAs (a microbenchmark: 212 vs 66 GMAC/s per core). 8 rows × 32 positions spent twice the
  broadcasts (180 GMAC/s; on AVX2 58 against 90). A pass's block sums wait in a small buffer and are scaled after
  its last block with the float accumulators in registers, read as ints and split by two shifts (the transposition
  interleaves each group's two halves). With the 16-bit tile Q4_0 prompts went from 0.53-0.55 of llama.cpp to
  0.71-0.78, and these two changes added 10 %; quantizing the prompt's input on all threads (it ran on one while
  the other waited) 5 % more; storing each position's outputs as gathered vectors (they were copied one float at a
  time) 1-2 % more; running a batch's per-position steps (norms, RoPE, cache writes, the gate, residual adds) on all
  threads from 32 rows up (the caller ran them alone while the other thread waited: it was busy 93 % of a prompt,
  now 97 %) 2-4 % more, near the machine's noise; 12-row tiles in place of 4 (each input vector loaded serves 12
  rows: 24 accumulators of AVX-512's 32 registers) 6-8 %, to 1.01-1.03 of llama.cpp. The loop is bound by vector operations (the same speed with adds in place of its multiplies,
  and with its weight broadcasts made pure loads): 8 multiplies and 8 adds per 256 products, where `vpdpbusd` does
  64 in one; the Vector API has no integer multiply-add, so this is the Q4_0 prompt's floor here. C2's
  auto-vectorizer does emit `vpdpwssd`, for a loop like `out[i] += a[2i] * b[2i] + a[2i + 1] * b[2i + 1]` over
  short arrays, but only with the sums in an array (a load and a store per instruction, both operands loaded, none
  broadcast): 15-23 GMAC/s per core, where the register tile reaches about 177. Q8_0 products do
  not fit 16 bits when summed and F16 needs floats: those run tiles of float FMAs, 8 rows × 32 positions where
  there are 32 vector registers (AVX-512). Q8_0's quants are multiplied as floats with their f16 scales folded in
  (8 by 11 significant bits: exact), which dropped the scale FMA per block of 32 and took TinyLlama Q8_0 prompts
  from 81 to 100 tok/s (llama.cpp 104); the other quants keep it. Q4_K (not in the table: the common `Q4_K_M`
  files are mostly Q4_K) runs Q4_0's 16-bit tile, its quants taken as q - 8 and the 8 put back through each block's
  input sum: TinyLlama quantized by llama.cpp's `llama-quantize --pure` to Q4_K, prompts 77 -> 121 tok/s, llama.cpp
  136 and 131 in the same rounds (0.56 -> 0.93). 4 rows' 8 accumulators
  only just covered the FMA's latency: 16 took a microbenchmark from 103 to 127 GMAC/s per core, TinyLlama F16
  prompts 166 -> 189 tok/s, a JMH Q8_0 matmul 74 -> 69 ms; AVX2's 16 registers keep 4 rows (8 spill: 56 -> 31).
  F16 rows were decoded by a loop C2 compiles to `vcvtph2ps` (it converted one element at a time from the
  mapping: 9 % of F16 prefill); since 2026-11-26 they are widened from generation's heap copy (below), in vectors,
  in that copy's order of even and odd elements (the transposed input follows it). Attention over a prompt is tiled the same way
  (`model/Attention`, 32 queries × 4 keys), 2-3 % of prefill time. Where Q8_0 prompts stand: in a `perf` profile of
  TinyLlama Q8_0 `pp512` 88 % of the samples are in the 8 × 32 float tile, which there runs at about 56 GMAC/s per
  core, while the same tile in a standalone loop with its data in L1 peaks at 57.7 (one 512-bit FMA per cycle).
  The other 12 % is the transposition, attention, the norms and the rest. Without int8 dot products, Q8_0 prompts
  stay near 0.93-0.96 of llama.cpp on this machine. Each thread gets the same number of a matrix's tiles (units of
  up to 48 rows, as many per thread). Exactly 48 rows per unit had left K and V of TinyLlama (256 rows) at 144
  rows on one thread against 112 on the other. With the change, JMH 256 × 2048 by 512 on two threads: Q8_0 4.30
  -> 3.72 ms, Q4_0 2.84 -> 2.65; TinyLlama Q8_0 prompts 98.1 -> 100.0 tok/s. Later, a matmul's
  outputs went back from gathered vectors to a plain copy. In one fresh-clone test run, C2 had left the gather's
  index check out of line, and every batched matmul allocated 80 bytes per gather. The copy costs nothing that
  could be measured: TinyLlama Q4_0 prompts 133.7 (gather) vs 134.6 tok/s (copy), medians of four alternating rounds.
  (Two earlier rounds had suggested 6 %: that was the machine's noise.) Then a prompt's
  last layer stops after attention for every row but those whose logits are wanted, as llama.cpp's does (their keys
  and values are cached by then): 4 % of TinyLlama's multiply-adds. pp512, new ÷ old in pairs of alternating order:
  Q4_0 1.06 (median of 8, 1.02-1.14), F16 on AVX2 1.08 (median of 6, 0.80-1.22).
* **Generation.** How much memory two threads get changes by the minute: a C loop that only reads (AVX-512 loads,
  1 GB, best of 7 passes) reads 41-43 GB/s on one core at any time, but on two 44-51 GB/s in some minutes and 79-88
  in others (other tenants of the host). In an earlier run of this table (2026-11-24, 20:04Z) the speed changed from one
  repetition to the next. llama.cpp's TinyLlama F16 `tg` ranged over 16.5-22.9 tok/s (34-47 GB/s) across its five
  repetitions, and slm4j's over 13.8-17.8. Where memory is fast, F16 generation is bound by one core's streaming,
  and there llama.cpp's `vcvtph2ps` reads more per core (see below). A C read probe an hour earlier gave 31-34 GB/s on
  two threads. In those minutes StableLM Q4_0 `tg` ran at 38.3 tok/s for slm4j and 39.5 for llama.cpp: 31 and 32 GB/s
  of weights, at the probe's limit. On the machine of an earlier run (16:19Z) the probe read 24-29 on
  one core and 30-33 on two, and both engines ran at half to two thirds of their speed on the faster machine of an
  earlier run (12:47Z), llama.cpp less slowed in some cells: TinyLlama Q8_0 prompts 161 -> 80 tok/s for slm4j, 141
  -> 104 for llama.cpp (its int8 dot products: here its Q8_0 prompt beats its own F16 one, 83). In the slow minutes every type is bound by memory for both engines:
  `bench/kernels.sh -p batch=1 -p threads=2` reads 40-48 GB/s for F16, Q8_0 and Q4_0 alike, so bytes per token
  decide and tg ratios sit near 1. In the fast minutes what one core can stream decides, and there the engines
  differ per type: one thread, TinyLlama `tg` (alternating runs, 2026-11-24): F16 13.5 vs 16.5 tok/s (0.82), Q8_0
  24.2 vs 26.3 (0.92, before its 16-bit loop below), Q4_0 41.8 vs 38.9 (1.07). Which minutes a run of this script meets moves its tg ratios by
  ±10 %: hence the pairing of each repetition's two runs. A loop that streams faster on one core is not always
  faster on two (see F16 generation below). Each thread owns a contiguous share of a matmul's rows and walks it
  from the front; one that runs out takes chunks from the back of another's (`tensor/Parallel`). Chunks dealt out in turn broke every
  core's stream at each chunk: 4-7 % slower generation. A share's chunks shrink from its front to its back (chunk
  i of S covers (2(S - i) - 1) / S^2 of it), so the thread still working when the other runs out holds it for a
  sliver of a chunk, not half an even one: Danube Q4_0 tg 42.5 -> 44.8 tok/s in alternating runs (it had the
  worker idle 2.6 % of a token, the caller 1 %). A token's input is quantized and regrouped for the kernels on the
  calling thread while the other waits; with gathers (`VectorKernels.groupBlocks`) instead of one element at a
  time that wait went from about 4 % of a Danube Q4_0 token to 1.5 % (39.5 -> 41.1 and 39.9 -> 40.4 tok/s). Q, K and V, and gate and up, run as one parallel job, one
  wait for the slower thread where there were three. Q4_0, Q8_0, Q4_K, Q5_K and Q6_K weights
  are regrouped on first use (`tensor/BlockGroups`, as llama.cpp repacks Q4_0): a vector lane follows one block, so
  one multiply-add scales many blocks; Q4_0 and Q8_0 keep their block scales as the file's f16 (a float per block
  was 6-11 % more bytes than the file). Q4_0 and Q4_K sum their nibble products in 16-bit lanes: the wrapped sum
  minus 8 times the block's input sum is sum((q - 8) * q_x), which fits, so it is exact. Q8_0 and Q5_K multiply in
  16 bits too: a load holds two bytes of each of L blocks side by side, a product is at most 128 × 127 = 16256 in
  magnitude, so two loads' products add exactly in 16 bits, and the 32-bit lane holding one block's two 16-bit sums
  is split into exact ints by two shifts. That is 14 vector operations per 64 weight bytes where widening each byte
  to a float and multiply-adding took 20, with the input as 16-bit integers (half the bytes in L1). JMH, one
  thread, one 1024 × 2048 matrix in cache: Q8_0 0.104 -> 0.078 ms, Q5_K 0.141 -> 0.095; 16 matrices of 5632 ×
  2048 from memory on two threads: Q8_0 0.447 -> 0.399 ms, Q5_K 0.519 -> 0.430. TinyLlama Q8_0 `tg`, alternating
  runs on a day whose memory gave one core 29-31 GB/s and two 35: one thread 12.6 -> 16.7 tok/s (llama.cpp 14.8),
  two 22.8 -> 26.5 (llama.cpp 25.9). Before it, on the earlier machine, one thread read
  (`bench/kernels.sh -p batch=1 -p threads=1`, 16 matrices of 5632 x 2048 streamed from memory, file bytes per
  second) F16 at 23 GB/s, Q8_0 26, Q4_0 23, Q4_K 21, Q6_K 21 (Q6_K also in 16-bit lanes, two sums of 8 per
  sub-block). Q4_0 and Q4_K group 2L blocks; a row of 2.5 groups (Danube's 2560 columns) padded its last one with
  zeros, so such rows go in pairs, two rows to one sequence of groups (Danube Q4_0 tg +11-15 %; only up to 4096
  columns, where the pair's doubled input still fits L1 beside the streamed weights). Q4_0 and Q4_K then take two
  rows (or row pairs) per pass, so each input load serves both, their bytes interleaved load by load into one
  stream: per group 32 weight loads against 32 input loads for two rows where one row took 16 against 32. JMH
  (alternating runs, medians of 3, huge pages): 5632 × 2048 from memory, one thread 439 -> 372 µs, two 217 -> 191;
  2560 × 2560 (row pairs), two threads 155 -> 126; TinyLlama Q4_0 `tg` on two threads 42.9 -> 48.0 tok/s
  (llama.cpp 50.9), Danube 22.9 -> 28.5 (32.0), three alternating rounds. The two rows read as two streams 512
  bytes apart ran at half speed from memory (16 % faster in cache): the trap F16's adjacent rows fell into below.
  Q8_0 the same way (four 32-byte loads, one stream) was 7 % faster in cache and 30 % slower from memory; not kept.
  Since then Q4_0 and Q4_K take four rows (or row pairs) per pass, a short holding one element's nibble of each
  (`BlockGroups.quads`): one weight load and one input load serve four rows, the shorts are multiplied unmasked,
  and after the group the rows' sums come apart exactly modulo 2^16 (m_k - 16 m_(k+1), where m_k sums
  (s >>> 4k) * q_x). That is 11 vector operations per 128 weights where widening and splitting two rows' bytes took
  14. The four sets are then scaled in a loop over a small per-thread scratch: written out four times, the method
  passed C2's inlining budget in one full test run, and its last set's scale operations were boxed (JFR allocation
  samples in KernelAllocationTest's measured rounds, 2.5 KB per matmul). The loop gives back part of the gain in
  cache. JMH 5632 × 2048, one input, alternating runs, medians of 3: Q4_0 one thread, 512 rows in cache, 31.4 µs
  (two rows a pass) -> 25.7 (four, written out) -> 29.7 (the loop); two threads from memory 203 -> 184 -> 178.
  A Q4_0 matrix with an inf or NaN scale (no trained model has one) goes to the reference kernel. In
  the engine on two threads it made no difference that this machine could show (TinyLlama Q4_0 `tg64`, four
  alternating rounds: 42.9 before, 42.2 after, the rounds spread over 41-48): there the two threads wait on memory.
  It is one thread, or a core with more memory bandwidth than operations, that gains. llama.cpp stayed 5-15 %
  ahead in most of that day's Q4_0 `tg` repetitions.
  Then (2026-11-26) the shifts became shifts of int lanes. On AVX2, C2 had compiled each ShortVector shift by a
  constant as a move of the count into a register and a shift by register, and spilled an accumulator. An int's
  shift carries the high short's low bits into the low short: m_k - 16 m_(k+1) cancels that for three passes, and
  the fourth's is 16 m_0 of the high short when both shorts follow the same block. So a group now holds L blocks,
  each in two adjacent lanes of two sets (k and k + 4), eight sets to a unit, the input held twice; a unit's eight
  sums at a row's end come from a tree of rearranges and blends (eight masked reductions cost AVX-512 28-35 %).
  One thread, AVX2, TinyLlama Q4_0 `tg64` 26.4 -> 30.2 tok/s (llama.cpp 28.1). On two threads that layout lost 13 %
  (46.1 -> 40.0) until each group's scales moved into the quants' array right after them: one stream, not two
  (45.4; llama.cpp 48.6, medians of 7). Q8_0's d and Q4_K's d and -dmin moved the same way: AVX2, two threads,
  Q8_0 26.8 -> 32.7, Q4_K 37.6 -> 39.1 (34.5 before the int shifts; llama.cpp 46.3). Two threads here wait on
  memory, so the table's Q4_0 `tg` cells moved only within their spread.
  Then the scaling after each group stopped splitting a vector of 16-bit sums into floats with `convertShape`'s
  parts 0 and 1: on AVX2 C2 compiles part 1 as a cross-lane shuffle of about 8 instructions (a permute, two
  byte shuffles, two blends) and spilled two vectors around it; on AVX-512 it is one `vpermw`. An int lane now
  holds one block's sums of set k in its low half and of set k + 4 in its high one, and two shifts split them:
  one float accumulator per set, lane j block j, and one vector of d_x (and of Q4_K's input sums) for both. The
  input is gathered once per block and put in both halves of an int (it was gathered twice). Q5_K and Q6_K, whose
  lanes are blocks, hold blocks b and b + L in one int lane the same way, and their scales and super-block d (Q5_K
  its mins, -dmin) moved into the quants' array, one stream. Q6_K's shifts of its quants' bits became int shifts
  with a mask for what crosses into the next short (Q5_K's, carried from one step to the next, made its matmul
  allocate, and stayed). AVX2, one thread, TinyLlama `tg64` (medians of 3, taking turns, 2026-11-26): Q4_0 32.4
  -> 36.4 tok/s, Q4_K (every matrix) 24.1 -> 28.6, Q6_K 12.2 -> 16.4; two threads Q4_0 43.4 -> 45.7 (llama.cpp
  43.8), Q4_K 41.4 -> 43.9 (46.8), Q4_K_M 36.8 -> 42.2 (44.2, medians of 4; one thread 21.8 -> 27.3, llama.cpp
  30.4). On AVX-512 the Q4 types were unchanged within the noise (JMH 2048 × 5632, one thread, 0.30 vs 0.29 ms);
  Q5_K_M on two threads 27.8 -> 30.5 (34.1). The table's AVX2 Q4_0 `tg` cells went from 0.89-1.03 to 0.98-1.08.
  A block's f16 scale becomes a float in 4 operations per 2L scales (the F16 loop's shift and mask, times 2^112),
  with the per-lane inf/NaN check only for a matrix that holds such a scale. Rows whose grouped input passes
  12 KB fell off a cliff: two threads read Q4_0 rows of 6144 columns (12 KB of input) at 35 GB/s and of 6912
  (Danube's FFN down, 14 KB) at 22, Q8_0 at 36 and 23, as if the input no longer stayed in L1 beside the streamed
  weights. Such rows now go through their groups in panels of even size, each panel's rows one after the other:
  Q4_0 2560 × 6912 493 -> 428 µs, Q8_0 722 -> 598 (medians of 4); panels of 8 KB also cut TinyLlama's 5632 columns
  and made them 10 % slower, so the limit was 12 KB. On this table's machine (session 24) 6 KB is faster, and is
  the limit now: JMH, two threads, 16 matrices from memory, medians of 3 rounds taking turns, Q4_0 2048 × 5632 248
  -> 203 µs, Q8_0 360 -> 351, Q4_0 2560 × 6912 337 -> 321; `tg64` on two threads taking turns with llama.cpp
  (3-4 rounds, medians): TinyLlama Q4_0 43.4 -> 48.4 tok/s (llama.cpp 47.6), Q8_0 26.5 -> 29.1 (26.0), StableLM
  Q4_0 33.8 -> 37.9 (35.8), Danube Q4_0 28.0 -> 28.3 (30.6; its 2560-column rows go in pairs, which were never
  cut). Session 25 found those pairs reading at 18-19 GB/s (Danube's QKV and attention output, JMH two threads)
  where TinyLlama's 2048-column rows read at 29-36: a pair's input, 10 KB, is past the 6 KB. Pairs now go in
  panels too, the first holding the middle group where the first row ends: Q4_0 2560 × 3584 one thread 387 -> 266
  µs, two 213 -> 177; 2560 × 2560 one thread 218 -> 198, two 134 -> 120; Danube Q4_0 `tg64` 28.1 -> 29.7 tok/s
  (llama.cpp 29.7), 4 rounds taking turns. Decode attention sums the weighted values in registers and takes the
  softmax's exps in vectors (each key's values had been added into memory, every FMA waiting on the last
  key's store): 5.6 -> 3.7 % of a TinyLlama Q4_0 `tg256` run on two threads (llama.cpp's flash attention: 7 % of
  its run). Prompts of more than 28 positions (Q6_K: 48, Q5_K: 64) still read the file's layout, and its pages
  are let go after each pass, so the weights are not held twice. F16 and Q8_0 prompts read generation's heap copy instead:
  from the file, each matmul faulted its pages back in and let them go, a third of a 16-position prompt's time
  (AVX2 TinyLlama F16 `pp16` 29.8 -> 48.3 tok/s, `pp512` 80.2 -> 82.8, llama.cpp 65.1 and 94.2, medians of 3 rounds
  taking turns). F16 batches of up to 16 go through that copy in one pass: each weight vector, read and widened
  once, serves four inputs' multiply-adds (`BlockGroups.f16x4`), over blocks of 64 rows, so four inputs' panel
  stays in L1 while the block stays in L2. AVX2 TinyLlama F16 prompts (tok/s, medians of 3 rounds taking turns,
  before -> after, llama.cpp): `pp4` 19.9 -> 40.1 (36.7), `pp8` 22.2 -> 43.3 (56.2), `pp12` 39.2 -> 49.1 (69.4),
  `pp16` 53.6 -> 49.5 (76.2); AVX-512 `pp8` 23.9 -> 42.3 (60.9), `pp16` 38.9 -> 45.5 (80.1). The kernel runs at about
  half the FMA's peak: a batch of 8 on one thread (JMH, 5632 × 2048) took 5.6 ms with each row passed over by
  every four inputs in turn (their inputs no longer fit L1 beside each other) and 4.1 ms in row blocks.
  Smaller batches of the other types (a short prompt; later, a
  server's few sequences per step) go one position at a time through the regrouped weights: `Gemm` decodes each
  matrix whole per call, about 300 ms of a TinyLlama Q4_0 forward pass at any batch size, where a position costs
  about 14 ms (forward passes of 2, 8, 16, 24 positions: 370, 400, 370, 380 ms through `Gemm`, 50, 115, 220, 340
  ms by position; where they meet, prompts of 24, 28 and 48 positions ran at 61, 71 and 81 tok/s through `Gemm`,
  68, 72 and 73 by position, Q8_0 at 20 and 24 positions 43 and 52 against 48 and 49). By position, a thread
  now takes a block of rows (128 KB) past every position in turn, so the weights come from memory once per matmul.
  Q8_0 rows, decoded for `Gemm` from the regrouped copy (`BlockGroups.q8Floats`, in its order, the input
  transposed to match) instead of from the file's pages faulted back in, made `Gemm` the faster past 5L/4
  positions (AVX2 10, AVX-512 20). AVX2 TinyLlama `pp16`, each run's median of 10, medians of 3 runs taking turns
  (2026-11-26), before -> after (llama.cpp, `-r 10`): Q8_0 46.1 -> 60.5 (70.1), Q4_0 70.6 -> 72.6 (90.9), Q4_K_M 58.7
  -> 60.5 (97.8). Q4_0 and Q4_K_M are bound by their kernels' work per position (`quadSums` and the block
  scaling: 70-90 % of the samples). On AVX-512 Q4_0 takes two positions per pass (`BlockGroups.quads2`: each weight
  load, its shifts and each pass's d_w serve both): native `pp16` 81.9 -> 92.6 tok/s (llama.cpp 131-133, with VNNI).
  So does Q4_K (`quadsK2`): native Q4_K_M `pp16` 65.9 -> 74.2. With AVX2's 16 registers that loop spilled (76.1 ->
  69.3), so there each position's sums take a loop of their own and only each pass's scales serve both: AVX2 `pp16`
  Q4_0 79.3 -> 83.0, Q4_K_M 63.0 -> 65.1. Two positions per pass also moved where `Gemm` pays: Q4_0 and Q4_K now
  go by position up to 56 positions, not 28 (on AVX-512 `Gemm` needs two tiles of 32 to run its paired loop; with
  one, its per-call decode, scaling and page faults were a third of the time). AVX2 `pp40`: Q4_0 64.6 -> 84.5,
  Q4_K_M 57.8 -> 68.4 (llama.cpp's AVX2 build about 91 for Q4_K_M: its int8 dot products do twice the products
  per multiply of our 16-bit ones). Native TinyLlama
  `pp40`, `-r 8`, medians of 3 rounds taking turns (2026-11-26): Q4_0 72.4 -> 95.4 tok/s, Q4_K_M 59.6 -> 79.7
  (llama.cpp 123.9 and 112.4); by position vs `Gemm`, Q4_0 at 32, 48, 56, 64 positions 96.1 vs 83.1, 97.9 vs 83.4,
  99.1 vs 99.7, 91.8 vs 110.3. Storing each 8 rows' sums as one vector in row order, not one checked store at a
  time (`lastRows`, a tenth of those prompts), then took `pp40` to 104.4 and 82.6.
  Regrouping writes each short once, in order, from a copy of four rows: read a byte at a time
  from the mapping, each short or-ed four times, TinyLlama Q4_0's layers took 1.0-1.7 s before the first token
  (now 0.63-0.67 s, about half of it the kernel handing over fresh memory). F16 rows are copied to the heap the same way (a
  Java array's bounds are proven once per loop, a mapping's are not: 10 % faster on one thread), two halves to an
  int: a shift and a mask put each half's bits where a float's go (its value times 2^-112, the input carries the
  2^112), 2-3 operations per 16 weights where a widening with a multiply and a blend took 8. It is not the
  arithmetic but instructions per cache line that bound one core here (an out-of-order window of a few hundred
  instructions holds only so many pending lines): one thread 19 -> 27 GB/s in a microbenchmark, Danube F16
  tg 5.6 -> 6.5 tok/s on one thread and 10.7 -> 12.0 on two (llama.cpp, `vcvtph2ps`: 9.1 and 12.0-12.5). A plain Java
  streaming sum reads 33 GB/s on one core. `bin/slm4j` asks for transparent huge
  pages for the heap, where the kernel offers them: fewer TLB misses while every token streams every weight.
* **K-quants (not in the table).** The common `Q4_K_M` files are mostly Q4_K, with Q6_K for the output matrix and
  about half of the V and FFN-down matrices. The regrouped Q4_K and Q6_K used to keep a float per lane, and Q6_K
  also kept each 6-bit quant as a byte: 6 and 10 bits per weight, where the file has 4.5 and 6.56. Generation reads
  every weight byte for every token, so extra bytes cost time directly.
  * Q6_K now keeps a nibble plane, a 2-bit plane and an int8 scale per lane (6.6 bits per weight). Its scale is
    multiplied out once per group; that is exact (an f16 times an int8), so the results are bit for bit the same as
    before. JMH 5632 × 2048, one input, two threads: 432 -> 324 µs. On TinyLlama quantized from the random F16
    file by `llama-quantize ... Q4_K_M`, `tg` went 32.9 -> 37.8 tok/s (medians of four alternating rounds, faster
    in each round). In other rounds llama.cpp ran at 41-43 tok/s; its `pp512` was 117 tok/s against slm4j's 108
    (0.92).
  * Q4_K keeps 4.75 bits per weight: its nibbles as Q4_0's, each lane's 6-bit scale and min in a short, and d and
    -dmin per super-block, which one load and constant shuffles put into their lanes. It has a generation loop of
    its own: inside the loop Q4_0 shares, it had made Q4_0's single-input matmul allocate 10 KB per call in one of two
    fresh-clone test runs. JMH 5632 × 2048, one input, two threads: 266 -> 232 µs (three alternating rounds).
  * Q5_K keeps 6 bits per weight (it had 10: its quants as bytes and two floats per lane), in lanes of 16 elements
    as Q6_K: a nibble plane and a plane of high bits. The products of q by the input's quants wrap around in 16
    bits, and taking off 16 times the lane's input sum leaves the exact sum of (q - 16) * q_x. JMH as above: 538 ->
    426 µs. That loop is bound by its operations, not by memory: in a `perf` profile of TinyLlama Q5_K_M `tg`, 75 %
    of the samples are in it, and it reads about 10 GB/s per core. Putting the fifth bit in place costs three
    operations per element where llama.cpp's integer dot products need none.
  * Q4_K then took Q4_0's quads (see above; `BlockGroups.quadsK` scales them), so both 4-bit types share one
    layout and one sum loop. JMH 5632 × 2048, one input, from memory: one thread 387 -> 370 µs, two threads 229 ->
    226 µs, both within the noise.
  * TinyLlama quantized from the random F16 file by `llama-quantize ... Q4_K_M` and `Q5_K_M`, `tg64` on two
    threads, medians of three alternating rounds with llama-bench (2026-11-24, 22:45Z): Q4_K_M 34.1 (before these
    two changes) -> 36.4 tok/s, llama.cpp 41.9 (0.81 -> 0.87); Q5_K_M 23.7 -> 25.5, llama.cpp 32.7 (0.73 -> 0.78).
    An earlier pair of rounds had Q4_K_M 36.9 -> 40.0 for the Q4_K change alone.
  * A prompt of K-quants goes through Gemm's tiles, which decode each row first. The Q6_K and Q5_K decoders read the
    mapped file one element at a time, and at 64 positions the decode took about as long as the tiles it fed
    (TinyLlama Q4_K_M `pp64`: `decodeQ6K` 9 % of the samples, for about a fifth of the weights). They now decode a
    vector at a time from the row's bytes: AVX-512 `pp64` Q6_K 46.6 -> 71.1 tok/s, Q4_K_M 87.0 -> 95.3; Q5_K_M
    `pp128` 51.0 -> 78.7; AVX2 Q4_K_M `pp64` 76.2 -> 79.2 (medians of three runs taking turns, 2026-11-26). Gemm
    then beats going position by position from 3L/2 positions (12 on AVX2, 24 on AVX-512); before, by position won
    up to 48 (Q6_K) and 64 (Q5_K). Q6_K by position now takes two positions per pass (`BlockGroups.q6K2`: the
    row's loads and the putting together of its 6-bit quants, 23 of the loop's 34 operations per 4 elements, serve
    both), and goes by position up to 7L/2 positions (AVX2 28, AVX-512 56): `--pure` Q6_K `pp16` AVX-512 37.8 ->
    54.0 tok/s, AVX2 42.3 -> 48.1; TinyLlama Q4_K_M `pp16` AVX2 66.7 -> 70.6, AVX-512 77.2 -> 82.6, `pp40` 81.1 ->
    88.7 (each run's median of 8, medians of 3 runs taking turns, 2026-11-26). Q5_K (`q5K2`) and Q8_0 (`bytes2`)
    do the same with their byte loads and 5-bit putting together, and go by position up to 7L/4 and 3L/2 positions:
    TinyLlama `pp16` AVX-512 Q5_K_M 40.1 -> 54.9, Q8_0 49.0 -> 60.2; `pp8` AVX2 Q5_K_M 28.1 -> 35.4, Q8_0 43.7 ->
    48.7 (each run's median of 6, medians of 3 rounds). Several sequences' decode steps at once go this way too.
  * Q4_K_M against llama.cpp on the same day: AVX-512 `pp512` 113.6 vs 116.6 tok/s (0.97), `pp64` about 93 vs 99-118,
    `tg` 40.2 vs 52.8 (0.76); AVX2 `pp64` 79.2 vs 100.6 (0.79), `tg` 37.2 vs 37.2. One core's Q4_K generation loop is
    bound by its vector operations (13 per 128 nibbles in 512-bit registers, about two per cycle: 22.7 GB/s on one
    core from the L3 cache); llama.cpp's integer dot products multiply and add pairs in one instruction, which the
    Vector API lacks.
  * A lesson of the Q4_K loop: C2 inlines many Vector API calls late, and a late-inlined `convert(I2F, 0)`, whose
    species is derived rather than named, was not intrinsified; its vectors were boxed, 80 bytes per call
    (`-XX:+LogCompilation` showed the fallback's code inlined). Conversions now name their species
    (`convertShape(I2F, F, 0)`).

* **What made the decode kernels slow.** Not the arithmetic, but how C2 compiled it (`tensor/VectorKernels` lists
  the rules): an inner loop per block, indexes divided or scaled by a variable, and vector helpers that C2 compiled
  on their own first and then boxed (the Q4_K and Q6_K kernels allocated gigabytes per run). A JMH benchmark on one
  12 MB matrix, which stays in the L3 cache, had hidden half of it; `bench/kernels.sh` now streams 16. A process
  that runs several weight types (a server with several models; the test suite) met three more: a prompt tile's
  decode held every format in one method, and C2's inlining budget ran out before the last ones (70-240 KB boxed
  per matmul); an F32 tail loaded through a helper left out of line at that cold call site; and a matmul's argument
  checks built two message lambdas per call. `KernelAllocationTest` checks every type, inside the full test run;
  run alone it caught one more: the input's grouping for Q8_0 and Q5_K, in one method with Q4_0's layout, boxed a
  vector per pair of quants (1.3 KB per group) when a process ran only those types. Each layout has its method now.
* **One 16-bit shape after a conversion** (session 23). CI failed on 4ad2d99: the Q4_K prompt decode boxed 288 KB
  per matmul in 1 of about 10 full test runs. `-XX:+PrintIntrinsics` in a failing run showed the two stores after
  its byte-to-short conversions not intrinsified ("missing constant: vclass"): a conversion's result is not known to
  C2 as its exact class, so `ShortVector.intoArray` found the class from its own type profile, shared by the whole
  process, where Gemm and BlockGroups had stored 2L-lane shorts and this decode L-lane ones. A 40-line program that
  stores converted shorts of both shapes boxes whichever method compiles second, every time. Now every 16-bit
  vector computed on is one shape (`VectorKernels.SHORTS`). The decode stores bytes and widens them 2L at a time,
  a 2L-byte load converted in lane (JMH 5632 × 2048, 128 positions, one thread, Q4_0: 21.7 ms before, 22.1 after).
  Tried first: broadcasting the bytes in the tile (25.4 ms), widening them in a plain loop (27.2), and putting two
  halves of L shorts together with a conversion into the upper half (part -1) and an `or` (21.1 ms, but the JDK
  builds that conversion from a shuffle, and the bigger decode failed to intrinsify two stores in 1 of 2 logged
  full runs). The input grouping for generation used the part -1 form until 2026-11-26 (now a mask and a shift of int lanes). A forked JVM without tiered compilation (every type profiled
  together before C2 compiles any) was tried as a stricter test and dropped: methods deoptimized there run
  interpreted for long stretches, so it failed on kernels whose compiled code was clean. It did find Q4_1's
  per-row kernel returning block sums from a helper compiled on its own first; that kernel is written out now.
* **F16 generation on one thread**, the widest gap left. The loop's speed depends on the row's width: one thread
  reads rows of 256 to 896 columns at 30-31 GB/s and rows of 960 to 5632 at 22-25 (`bench/kernels.sh -p type=F16
  -p batch=1 -p threads=1`, rows and columns varied at 23 MB a matrix; the step lies between 896 and 960 columns,
  an input of 3.5 and 3.75 KB, and its cause was not found). So an F16 matrix wider than 896 is copied in panels of
  512 columns, each laid out as a matrix of its own, and a thread takes its rows through one panel after another
  (`tensor/BlockGroups`): 5632 × 2048 28-31 GB/s on one thread instead of 24; TinyLlama F16 `tg` 11.0 -> 13.1
  tok/s on one thread (llama.cpp 16.2) and 19.4 -> 20.6 on two, Danube 11.9 -> 13.1 on two (alternating runs). On
  two threads JMH read a 2048 × 5632 matrix at 31-32 GB/s in panels against 32-35 whole, a loss the engine's
  alternating runs did not show (0.91-0.94 in the panels' favour, with panels for 5632 columns or without). An
  earlier try cut the file's rows into pieces where they lay (strided), for rows over 3584 columns only: 30 vs 22
  GB/s in a microbenchmark, nothing in the engine. What is left on one thread is not the loop's instructions: in C
  (`-O2 -mavx512f`) the same shift, mask and FMA sequence reads 33-35 GB/s on one core, `vcvtph2ps` 38. The Java
  loop depends on where its arrays lie: weights and input both 64-byte aligned 33 GB/s, both off by 16 bytes 28.5
  (Java arrays start 16 bytes past an 8-byte boundary, and the GC moves them); forcing it in the engine
  (`-XX:ObjectAlignmentInBytes=64` and an offset) gained 4 % on one thread and 1 % on two, not kept. Also measured
  and not kept: two or four adjacent rows per pass (two streams 1 KB apart: 16 vs 28 GB/s), the inf/NaN variant in
  a method of its own, and two loops that win on one thread and lose on two in the slow minutes (JMH, 16 matrices of
  5632 × 2048, alternating runs, 2026-11-24): an index linear in the loop variable (C2 then drops the bounds checks
  and unrolls 4 times) 0.80 -> 0.74 ms on one thread, 0.565 -> 0.61 on two, TinyLlama F16 tg on two threads 19.0
  -> 16.5 tok/s (an earlier measurement had it slower on one thread too, 26 vs 30 GB/s); and two streams per thread,
  rows from the two halves of its chunk in turn, 0.806 -> 0.747 ms on one thread, 0.560 -> 0.608 on two. With the
  linear index, panels of 256, 512, 768 and 1024 columns and whole rows took 0.78, 0.73, 0.75, 1.36 and 1.19 ms.
  On this table's machine (session 24) panels of 1024 columns read faster than 512 on one thread and on two, and the
  panels are 1024 columns now: JMH (`bench/kernels.sh -p type=F16 -p batch=1`, 16 matrices from memory, medians of
  3 rounds taking turns) 5632 × 2048 on two threads 792 µs (512) vs 598 (1024) vs 637 (whole rows), 2048 × 5632
  846 vs 735 vs 1088 (768 to 2048 columns all 705-760), on one thread 5632 × 2048 1158 vs 1007; the engine on two
  threads, `tg` taking turns with llama.cpp (3-4 rounds, medians), TinyLlama 13.6 -> 14.6 tok/s (llama.cpp 14.6),
  Danube 8.3 -> 8.9 (8.1), StableLM 10.8 -> 11.3 (9.9). Whole rows of 5632 columns (an input of 22 KB) stay slow.
* **Memory.** Regrouped Q4_0 and Q8_0 are the file's size (Q4_0 plus the padding of rows that fill no whole group) and live on the Java heap
  (`bin/slm4j` lets the heap grow to 75 % of memory) while the file's pages are let go; the JVM and the prompt's
  transient copy of the file pages put Q8_0's peak RSS above llama.cpp's. llama.cpp repacks Q4_0 and holds it twice.
  The page cache here keeps only 2-3 GB (with 20 GB free), so the F16 files are partly re-read from disk during a
  run: their cells are the noisiest, for both engines.
""")
PY
cat "$root/docs/PERFORMANCE.md"
