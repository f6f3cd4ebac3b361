#!/usr/bin/env bash
# Compile-time cost of #[derive(JobMetadata)]: generates crates of 200
# structs each, all deriving Serialize + Deserialize: `without_jobmetadata`
# derives nothing more, `with_jobmetadata` also derives JobMetadata, and
# `handwritten` writes out by hand exactly what the derive generates (the
# trait impl and one typed const per field), which is the floor for any
# implementation that gives each field a typed const. Times `cargo build` of
# each crate alone (dependencies are built first and shared), interleaved,
# and prints every build time, the medians and the ratios to the baseline.
#
#   bash bench/compile_time.sh [RUNS]     # RUNS defaults to 5 (at least 3)
#   bash bench/compile_time.sh --instructions
#
# --instructions counts, with valgrind's callgrind, the instructions rustc
# runs for one such rebuild of `with_jobmetadata` and of `handwritten` (and,
# of that, the derive's own run): counts that repeat exactly, where build
# times on a shared machine move by 10 % or more between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${1:-5}
mode=time
if [ "$runs" = --instructions ]; then mode=instructions; runs=1; fi
work="$root/target/compile-time"
export CARGO_TARGET_DIR="$work/target"
mkdir -p "$work"

gen() { # gen NAME DERIVES [handwritten]
  local dir="$work/$1"
  mkdir -p "$dir/src"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
jobsess = { path = "$root/jobsess" }
serde = { version = "1", features = ["derive"] }
TOML
  {
    echo "#![allow(dead_code)]"
    echo "use serde::{Deserialize, Serialize};"
    for i in $(seq 1 200); do
      echo "#[derive(Serialize, Deserialize, $2)]"
      echo "#[serde(rename_all = \"camelCase\")]"
      echo "pub struct Job$i {"
      echo "    pub file_name: String,"
      echo "    pub plugin_id: String,"
      echo "    #[serde(default)]"
      echo "    pub progress: u8,"
      echo "    pub options: Vec<String>,"
      echo "    #[serde(skip)]"
      echo "    pub cache: Option<u64>,"
      echo "}"
      if [ "${3:-}" = handwritten ]; then
        cat <<RUST
impl jobsess::JobMetadata for Job$i {
    fn schema() -> &'static jobsess::Schema {
        &jobsess::Schema {
            key_prefix: "job",
            type_name: "Job$i",
            field_keys: &["fileName", "pluginId", "progress", "options"],
            version: None,
        }
    }
}
impl Job$i {
    /// Typed key of \`file_name\`.
    pub const FILE_NAME: jobsess::Field<Self, String> = jobsess::__private::field("fileName");
    /// Typed key of \`plugin_id\`.
    pub const PLUGIN_ID: jobsess::Field<Self, String> = jobsess::__private::field("pluginId");
    /// Typed key of \`progress\`.
    pub const PROGRESS: jobsess::Field<Self, u8> =
        jobsess::__private::default(jobsess::__private::field("progress"), <u8 as Default>::default);
    /// Typed key of \`options\`.
    pub const OPTIONS: jobsess::Field<Self, Vec<String>> = jobsess::__private::field("options");
}
RUST
      fi
    done
  } > "$dir/src/lib.rs"
}

gen without_jobmetadata "Debug"
gen with_jobmetadata "Debug, jobsess::JobMetadata"
gen handwritten "Debug" handwritten

# Build the dependencies once, so only the generated crates are timed.
for name in without_jobmetadata with_jobmetadata handwritten; do
  cargo build -q --manifest-path "$work/$name/Cargo.toml"
done

time_build() { # time_build NAME -> seconds of one build of that crate alone
  touch "$work/$1/src/lib.rs"
  local start end
  start=$(date +%s.%N)
  cargo build -q --manifest-path "$work/$1/Cargo.toml"
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}'
}

if [ "$mode" = instructions ]; then
  command -v valgrind >/dev/null || { echo "--instructions needs valgrind" >&2; exit 1; }
  declare -A total
  for name in with_jobmetadata handwritten; do
    touch "$work/$name/src/lib.rs"
    # the rustc command cargo runs for this crate, run again under callgrind
    cmd=$(cargo build -v --manifest-path "$work/$name/Cargo.toml" 2>&1 |
      grep -- "--crate-name $name " | sed 's/^ *Running .//; s/.$//')
    out="$work/callgrind.$name"
    rm -f "$out".*
    (cd "$work/$name" && valgrind --tool=callgrind --trace-children=yes \
      --callgrind-out-file="$out.%p" bash -c "$cmd" >/dev/null 2>&1)
    file=$(ls -S "$out".* | head -n 1)   # rustc's, not the shell's
    total[$name]=$(awk '/^totals:/ {print $2}' "$file")
    derive=$(callgrind_annotate --inclusive=yes "$file" 2>/dev/null |
      awk '/jobsess_derive::derive_job_metadata / {gsub(",", "", $1); print $1}')
    echo "$name: ${total[$name]} instructions${derive:+, of which the derive runs $derive}"
  done
  awk -v j="${total[with_jobmetadata]}" -v h="${total[handwritten]}" \
    'BEGIN {printf "derive over hand-written (instructions): %.4f\n", j / h}'
  exit 0
fi

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -a without with hand
for _ in $(seq 1 "$runs"); do   # interleaved, so drift hits all alike
  without+=("$(time_build without_jobmetadata)")
  with+=("$(time_build with_jobmetadata)")
  hand+=("$(time_build handwritten)")
done
m_without=$(printf '%s\n' "${without[@]}" | median)
m_with=$(printf '%s\n' "${with[@]}" | median)
m_hand=$(printf '%s\n' "${hand[@]}" | median)
echo "builds without JobMetadata (s): ${without[*]}"
echo "builds with the derive (s):     ${with[*]}"
echo "builds hand-written (s):        ${hand[*]}"
awk -v w="$m_without" -v j="$m_with" -v h="$m_hand" 'BEGIN {
  printf "median without:     %.3f s\n", w
  printf "median with derive: %.3f s   ratio %.3f\n", j, j / w
  printf "median hand-written:%.3f s   ratio %.3f\n", h, h / w
  printf "derive over hand-written: %.3f\n", j / h
}'
