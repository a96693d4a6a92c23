#!/usr/bin/env bash
# The Slurm cluster test (issue 6 item 5): a real single-node Slurm cluster on localhost runs
# deploy/slurm/mixfarm.sbatch, unchanged, as a 4-task job array over a small catalog.
#
#   A. `sbatch --wait --array=0-3` into out-a/, `mixfarm merge-reports`, then check.py: every
#      song exactly once per delivery and format, in exactly one shard report, byte-identical
#      to a single-machine run (ref/), summary naming 4 shards and no failures.
#   B. the same into out-b/, but one array task is cancelled (scancel <job>_<i>) once it is
#      running and has written at least one of its songs; the rest finish; merge-reports must
#      then report the shard missing (exit non-zero); `sbatch --array=<i>` with SHARDS=4 redoes
#      that shard only; its finished songs are not rewritten (--skip-existing: same inode and
#      mtime); merge + check.py as in A.
#   C. the same into out-c/, but one running task gets USR1 on its batch shell (what
#      `--signal=B:USR1@300` sends before the time limit): the script passes SIGTERM on, mixfarm
#      exits 75, the script requeues its own task, which resumes (after Slurm's hold on requeued
#      jobs, 10 s on the test cluster) and completes; merge + check.py.
#
# Run as root (it installs and starts Slurm: tests/slurm/cluster.sh). Exit 0 = PASS.
# Knobs: MIXFARM_BIN (default: `cargo build` here, then target/debug/mixfarm; the stand-in
# tests/slurm/stub-mixfarm proves the cluster side alone), SLURM_TEST_WORK (work folder,
# default a new /tmp/mixfarm-slurm-test.*; kept on failure), SONG_SECONDS (default 6),
# SLURM_TEST_KEEP=1 (keep the cluster running and the work folder).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/slurm
SBATCH_FILE=$ROOT/deploy/slurm/mixfarm.sbatch
SHARDS=4
ALBUMS=${ALBUMS:-4}
SONGS_PER_ALBUM=${SONGS_PER_ALBUM:-3}
SONG_SECONDS=${SONG_SECONDS:-6}
DELIVER=${DELIVER:-streaming,broadcast}
FORMAT=${FORMAT:-flac24,wav24}
EXTRA_ARGS=${EXTRA_ARGS:---album-mode album --sequence}
T0=$(date +%s)

say() { printf '[slurm-test %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
fail() { say "FAIL: $*"; exit 1; }

WORK=${SLURM_TEST_WORK:-$(mktemp -d /tmp/mixfarm-slurm-test.XXXXXX)}
mkdir -p "$WORK/logs"
finish() {
  local rc=$?
  set +e
  if [ "$rc" != 0 ]; then
    say "logs of the array tasks (last lines each):"
    for f in "$WORK"/*.out; do [ -e "$f" ] && { echo "== $f"; tail -n 15 "$f"; }; done
    echo "== slurmctld.log"; tail -n 20 "${MIXFARM_SLURM_DIR:-/tmp/mixfarm-slurm}/log/slurmctld.log"
  fi
  if [ "${SLURM_TEST_KEEP:-0}" != 1 ]; then
    "$HERE/cluster.sh" down
    [ "$rc" = 0 ] && rm -rf "$WORK"
  fi
  if [ "$rc" = 0 ]; then say "PASS: Slurm cluster test"; else say "FAIL: Slurm cluster test (work folder $WORK)"; fi
  exit "$rc"
}
trap finish EXIT

[ "$(id -u)" = 0 ] || fail "run as root (installs and starts Slurm)"
if ! command -v python3 >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 >/dev/null; }
fi

if [ -z "${MIXFARM_BIN:-}" ]; then
  say "building mixfarm (cargo build)"
  (cd "$ROOT" && cargo build --quiet)
  MIXFARM_BIN=$ROOT/target/debug/mixfarm
fi
MIXFARM_BIN=$(realpath "$MIXFARM_BIN")
[ -x "$MIXFARM_BIN" ] || fail "no mixfarm binary at $MIXFARM_BIN"
MF=$MIXFARM_BIN
say "mixfarm: $MF; work folder: $WORK"

# The deploy script asks, per task, for 1 GPU, 4 CPUs and 16G: declare a node that fits 4
# tasks at once (more than this machine has; nothing is confined, the catalog is tiny).
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
"$HERE/cluster.sh" down >/dev/null 2>&1 || true
SLURM_NODE_CPUS=$((4 * SHARDS)) SLURM_NODE_MEM_MB=$((mem_mb > 16384 ? mem_mb : 16384)) \
  SLURM_NODE_GPUS=$SHARDS "$HERE/cluster.sh" up
# shellcheck disable=SC1091
source "${MIXFARM_SLURM_DIR:-/tmp/mixfarm-slurm}/env"
say "cluster up: $(sinfo -h -o '%P %T %N %G')"

CAT=$WORK/catalog
MANIFEST=$CAT/manifest.csv
"$MF" synth-catalog "$CAT" --albums "$ALBUMS" --songs-per-album "$SONGS_PER_ALBUM" --seconds "$SONG_SECONDS"
[ -s "$MANIFEST" ] || fail "synth-catalog wrote no $MANIFEST"
nsongs=$(($(wc -l <"$MANIFEST") - 1))
say "catalog: $nsongs songs in $ALBUMS albums, ${SONG_SECONDS}s each"
"$MF" plan "$MANIFEST" --shards "$SHARDS" || fail "mixfarm plan"

read -r -a extra <<<"$EXTRA_ARGS"
say "reference: one machine, no sharding"
"$MF" master --manifest "$MANIFEST" --out "$WORK/ref" --deliver "$DELIVER" --format "$FORMAT" \
  "${extra[@]}" >"$WORK/logs/ref.log" 2>&1 || { tail -n 20 "$WORK/logs/ref.log"; fail "reference run"; }

# Submit the deploy script unchanged (its task logs, %x-%A_%a.out, land in the work folder).
submit() { # OUT [sbatch args…]
  local out=$1; shift
  MANIFEST=$MANIFEST OUT=$out DELIVER=$DELIVER FORMAT=$FORMAT EXTRA_ARGS=$EXTRA_ARGS MIXFARM=$MF \
    sbatch --chdir="$WORK" "$@" "$SBATCH_FILE"
}
check_out() { # OUT
  python3 "$HERE/check.py" "$MANIFEST" "$WORK/ref" "$1" --shards "$SHARDS" --deliver "$DELIVER" --format "$FORMAT"
}

# ---- A: the whole array ------------------------------------------------------------------
say "A: sbatch --wait --array=0-$((SHARDS - 1))"
rc=0; submit "$WORK/out-a" --wait --array="0-$((SHARDS - 1))" || rc=$?
[ "$rc" = 0 ] || fail "A: sbatch --wait returned $rc (highest task exit code)"
"$MF" merge-reports "$WORK/out-a" || fail "A: merge-reports exited $?"
say "A: checks"
check_out "$WORK/out-a" || fail "A: outputs differ from the single-machine run"

# ---- B: cancel one task mid-way, resubmit it ------------------------------------------------
# The shard with the most songs, and its songs' titles (mixfarm plan --json).
plan_json=$("$MF" plan "$MANIFEST" --shards "$SHARDS" --json)
read -r idx titles_file < <(PLAN="$plan_json" python3 - "$MANIFEST" "$SHARDS" "$WORK/victim-titles" <<'EOF'
import csv, json, os, re, sys
manifest, n, dest = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = list(csv.DictReader(open(manifest, newline="")))
plan = json.loads(os.environ["PLAN"])
def strings(v):
    if isinstance(v, str): yield v
    elif isinstance(v, dict):
        for x in v.values(): yield from strings(x)
    elif isinstance(v, list):
        for x in v: yield from strings(x)
shards = plan.get("shards", plan) if isinstance(plan, dict) else plan
if isinstance(shards, dict):
    shards = [shards[k] for k in sorted(shards, key=int)]
best, best_titles = 1, []
for i, s in enumerate(shards[:n]):
    vals = set(strings(s))
    # The shard's songs by file or title, else by album (a plan may list only albums).
    titles = [r["title"] for r in rows if r["file"] in vals or r["title"] in vals
              or any(v.endswith("/" + r["file"]) for v in vals)]
    titles = titles or [r["title"] for r in rows if r["album"] in vals]
    if len(titles) > len(best_titles):
        best, best_titles = i, titles
open(dest, "w").write("\n".join(best_titles) + "\n")
# grep -E patterns for the lines "<path> <inode> <mtime>" of those songs' files (audio, sidecar)
open(dest + ".re", "w").write("\n".join(re.escape(t) + r"\.[A-Za-z0-9]+ " for t in best_titles) + "\n")
print(best, dest)
EOF
)
mapfile -t victim_titles <"$titles_file"
[ "${#victim_titles[@]}" -ge 2 ] || fail "B: plan --json gave no shard with 2+ songs (${victim_titles[*]})"
IFS=, read -r -a deliveries <<<"$DELIVER"
want=$((${#victim_titles[@]} * ${#deliveries[@]}))
# Song deliveries of shard $idx finished in OUT (a song's audio in a delivery's album folder).
# Album mode writes an album's songs in a burst, delivery after delivery: cancelling once the
# first one is there leaves the others undone.
done_count() {
  local n=0 t d
  for d in "${deliveries[@]}"; do
    for t in "${victim_titles[@]}"; do
      compgen -G "$1/$d/*/*$t.flac" >/dev/null || compgen -G "$1/$d/*/*$t.wav" >/dev/null || continue
      n=$((n + 1))
    done
  done
  echo "$n"
}
task_state() { squeue -h -j "$1" -o %T 2>/dev/null | head -n1; }

# Poll until task $2 of the array is RUNNING and has written some but not all of its song
# deliveries into $1; then run "${@:3}" on it. Prints how many were done.
at_midway() { # OUT TASK COMMAND…
  local out=$1 task=$2 st n=0
  shift 2
  for _ in $(seq 1500); do
    st=$(task_state "$task")
    n=$(done_count "$out")
    if [ "$st" = RUNNING ] && [ "$n" -ge 1 ] && [ "$n" -lt "$want" ]; then
      "$@" "$task" && echo "$n" && return 0
    fi
    [ "$n" -ge "$want" ] && break
    [ -z "$st" ] && [ -s "$WORK/mixfarm-$task.out" ] && break
    sleep 0.1
  done
  say "task $task ended (or never ran) before it could be stopped mid-way ($n of $want song deliveries done): raise SONG_SECONDS" >&2
  return 1
}
# Wait until no task of array $1 is pending or running (no sacct without slurmdbd: scontrol).
wait_array() { # JOBID
  local states=""
  for _ in $(seq 1200); do
    states=$(scontrol -o show job "$1" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' \n' ' ')
    grep -qE 'PENDING|RUNNING|COMPLETING|CONFIGURING|REQUEUE|SUSPENDED|RESIZING' <<<"$states" || break
    sleep 0.5
  done
  echo "$states"
}
job_field() { scontrol -o show job "$1" | grep -o "$2=[^ ]*" | head -n1 | cut -d= -f2; }
others_completed() { # JOBID: every task but $idx COMPLETED
  local bad
  bad=$(scontrol -o show job "$1" | grep -v "ArrayTaskId=$idx " | grep -vc 'JobState=COMPLETED' || true)
  [ "$bad" = 0 ]
}

OUTB=$WORK/out-b
say "B: sbatch --array=0-$((SHARDS - 1)); task $idx (${#victim_titles[@]} songs) will be cancelled mid-way"
jobid=$(submit "$OUTB" --parsable --array="0-$((SHARDS - 1))")
jobid=${jobid%%;*}
victim=${jobid}_$idx
killed_at=$(at_midway "$OUTB" "$victim" scancel) || fail "B: no mid-way cancel"
say "B: scancel $victim after $killed_at of its $want song deliveries"
say "B: array finished: $(wait_array "$jobid")"
vstate=$(job_field "$victim" JobState)
[ "$vstate" = CANCELLED ] || fail "B: task $victim is $vstate, expected CANCELLED"
others_completed "$jobid" || fail "B: some of the other tasks did not complete"
grep -h 'mixfarm.sbatch\|exit\|SIGTERM' "$WORK/mixfarm-$victim.out" | sed 's/^/    /' || true

rc=0; "$MF" merge-reports "$OUTB" >"$WORK/logs/merge-b1.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "B: merge-reports exited 0 with shard $idx cancelled"
say "B: merge-reports with shard $idx cancelled exits $rc, as it must"

# The cancelled shard's songs finished before the cancel must not be rendered again: their
# files (audio and sidecars) keep inode and mtime. Album sequences may be rebuilt from them.
song_files() { ( cd "$1" && find . -type f -printf '%p %i %T@\n' ) | grep -E -f "$titles_file.re" | sort; }
song_files "$OUTB" >"$WORK/before-resubmit"
say "B: SHARDS=$SHARDS sbatch --wait --array=$idx"
rc=0; SHARDS=$SHARDS submit "$OUTB" --wait --array="$idx" || rc=$?
[ "$rc" = 0 ] || fail "B: resubmitted task $idx exited $rc"
song_files "$OUTB" >"$WORK/after-resubmit"
changed=$(comm -23 "$WORK/before-resubmit" "$WORK/after-resubmit" | grep -v '\.tmp ' || true)
[ -z "$changed" ] || fail "B: the resubmission rendered finished songs again: $(head -n 3 <<<"$changed")"
say "B: the $(wc -l <"$WORK/before-resubmit") files of shard $idx's songs finished before the cancel are untouched"
"$MF" merge-reports "$OUTB" || fail "B: merge-reports after the resubmission exited $?"
say "B: checks"
check_out "$OUTB" || fail "B: outputs differ from the single-machine run"

# ---- C: time-limit warning, self-requeue, resume ------------------------------------------
# What --signal=B:USR1@300 does before the time limit, sent at once: USR1 to the batch shell
# only (scancel --batch). The script must pass SIGTERM on to mixfarm, get exit 75 and requeue
# its own task; the requeued task resumes with --skip-existing.
OUTC=$WORK/out-c
say "C: sbatch --array=0-$((SHARDS - 1)); task $idx gets the time-limit warning (USR1) mid-way"
jobid=$(submit "$OUTC" --parsable --array="0-$((SHARDS - 1))")
jobid=${jobid%%;*}
victim=${jobid}_$idx
usr1() { scancel --batch --signal=USR1 "$1"; }
warned_at=$(at_midway "$OUTC" "$victim" usr1) || fail "C: no mid-way warning"
say "C: USR1 to the batch shell of $victim after $warned_at of its $want song deliveries"
for _ in $(seq 300); do
  [ "$(job_field "$victim" Restarts)" -ge 1 ] 2>/dev/null && [ "$(job_field "$victim" JobState)" = PENDING ] && break
  sleep 0.2
done
[ "$(job_field "$victim" Restarts)" = 1 ] || fail "C: task $victim was not requeued (Restarts=$(job_field "$victim" Restarts), $(job_field "$victim" JobState))"
grep -h 'mixfarm.sbatch\]' "$WORK/mixfarm-$victim.out" | tail -n 3 | sed 's/^/    /'
# Slurm holds a requeued job until the credential of its last run has expired: cluster.sh
# sets that to 10 s (AuthInfo=cred_expire; the default is 120 s).
say "C: requeued (Restarts=1), eligible at $(job_field "$victim" EligibleTime)"
say "C: array finished: $(wait_array "$jobid")"
[ "$(job_field "$victim" JobState)" = COMPLETED ] || fail "C: requeued task $victim is $(job_field "$victim" JobState)"
others_completed "$jobid" || fail "C: some of the other tasks did not complete"
"$MF" merge-reports "$OUTC" || fail "C: merge-reports exited $?"
say "C: checks"
check_out "$OUTC" || fail "C: outputs differ from the single-machine run"
