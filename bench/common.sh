# Shared by bench/run, bench/idle_terminals and bench/long_polls (sourced, not run).
# Debian 12, as root: installs what is missing, raises the open-file limit, builds the
# release binary, and describes the machine.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
release_dir="$bench_root/build/release"
tillgate="$release_dir/tillgate"
results_dir="$bench_root/bench/results"

# apt-get only for what is missing; nothing is touched when all is there.
bench_install() {
  local missing=() package status
  for package in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$package")
  done
  if ((${#missing[@]})); then
    echo "bench: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Every connection is a descriptor, in the bench and in the gateway (which inherits this).
# Raising the hard limit needs CAP_SYS_RESOURCE (root, outside a restricted container);
# fd_limit is the limit in force afterwards.
bench_raise_fd_limit() {
  local want=${1:-1048576}
  if [[ $(ulimit -Hn) != unlimited && $(ulimit -Hn) -lt $want ]]; then
    ulimit -Hn "$want" 2>/dev/null ||
      echo "bench: cannot raise the hard open-file limit from $(ulimit -Hn) to $want (needs root with CAP_SYS_RESOURCE)" >&2
  fi
  ulimit -n "$(ulimit -Hn)"
  fd_limit=$(ulimit -n)
  [[ $fd_limit == unlimited ]] && fd_limit=1048576
  return 0
}

# The release preset (CMakePresets.json: build/release, RelWithDebInfo), nice'd: other
# builds may share the two cores.
bench_build() {
  (cd "$bench_root" && cmake --preset release >/dev/null &&
    nice cmake --build --preset release -j2 --target tillgate "$@" >/dev/null)
}

bench_machine() {
  local model cores ram disk_dev disk
  model=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
  cores=$(nproc)
  ram=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')
  disk_dev=$(df --output=source "${1:-/tmp}" | tail -1)
  # A tmpfs (or any filesystem without a block device) has no lsblk line.
  disk="$disk_dev $(lsblk -ndo SIZE,ROTA,MODEL "$disk_dev" 2>/dev/null | awk '{print $1, ($2=="1" ? "rotational" : "non-rotational"), $3}' || true)"
  echo "machine:   $model, $cores cores, $ram RAM, $(uname -sr)"
  echo "disk:      $disk (directory ${1:-/tmp})"
  echo "commit:    $(git -C "$bench_root" rev-parse --short HEAD)$(git -C "$bench_root" diff --quiet HEAD -- src || echo ' + uncommitted changes in src/')"
  echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at start"
}

# jq -r EXPR on the JSON in $1.
bench_json() {
  jq -r "$2" <<<"$1"
}

# MET or NOT MET for "awk expression true".
bench_verdict() {
  if awk "BEGIN { exit !($1) }"; then echo MET; else echo "NOT MET"; fi
}
