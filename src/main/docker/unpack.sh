#!/bin/sh
# Image build time only (Dockerfile "unpack" stage): explodes the Spring Boot jar into its layers and moves the
# Linux x86-64 native libraries of ONNX Runtime and the DJL tokenizer out of their jars into $OUT/native, so
# that nothing is extracted to a temporary directory at start and the libraries are not stored twice.
#
#   unpack.sh APP_JAR OUT   ->  OUT/layers/{dependencies,spring-boot-loader,snapshot-dependencies,application}
#                               OUT/native/onnxruntime/*.so, OUT/native/djl/libtokenizers.so
set -eu
APP_JAR=$1
OUT=$2
# A fixed entry date makes the rewritten jars byte-identical between builds, so the dependencies layer is
# cached unless a dependency changes (the jar tool's earliest allowed date).
JAR_DATE=1980-01-01T00:00:02Z

jar() { java -m jdk.jartool/sun.tools.jar.Main "$@"; }

one_file() {  # the single file matching a glob, or fail
  set -- $1
  [ $# -eq 1 ] && [ -f "$1" ] || { echo "expected exactly one file, found: $*" >&2; exit 1; }
  echo "$1"
}

# move_natives JAR PREFIX_TO_DROP SOURCE_DIR TARGET_DIR: copies SOURCE_DIR (inside the jar) to TARGET_DIR,
# then rewrites the jar without anything under PREFIX_TO_DROP except *.properties (DJL reads its
# native/lib/tokenizers.properties to identify the platform).
move_natives() {
  jar_file=$1 drop=$2 source=$3 target=$4
  work=$(mktemp -d)
  mkdir "$work/tree"
  (cd "$work/tree" && jar --extract --file "$jar_file")
  [ -d "$work/tree/$source" ] || { echo "$jar_file has no $source" >&2; exit 1; }
  mkdir -p "$target"
  cp "$work/tree/$source"/* "$target"/
  find "$work/tree/$drop" -type f ! -name '*.properties' -delete
  find "$work/tree/$drop" -depth -type d -empty -delete
  (cd "$work/tree" && find . -type f ! -path ./META-INF/MANIFEST.MF | LC_ALL=C sort > "$work/entries.txt" \
    && jar --create --date="$JAR_DATE" --file "$work/stripped.jar" --manifest META-INF/MANIFEST.MF "@$work/entries.txt")
  mv "$work/stripped.jar" "$jar_file"
  rm -rf "$work"
}

java -Djarmode=tools -jar "$APP_JAR" extract --layers --launcher --destination "$OUT/layers"
lib="$OUT/layers/dependencies/BOOT-INF/lib"

# onnxruntime-<version>.jar (CPU) or onnxruntime_gpu-<version>.jar (CUDA 12)
ort_jar=$(one_file "$lib/onnxruntime*-[0-9]*.jar")
move_natives "$(realpath "$ort_jar")" ai/onnxruntime/native ai/onnxruntime/native/linux-x64 "$OUT/native/onnxruntime"

djl_jar=$(one_file "$lib/tokenizers-[0-9]*.jar")
move_natives "$(realpath "$djl_jar")" native/lib native/lib/linux-x86_64/cpu "$OUT/native/djl"

ls -l "$OUT/native/onnxruntime" "$OUT/native/djl"
