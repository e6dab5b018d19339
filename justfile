# AIQ Circles: every developer and operator command. `just --list` shows them.
# Local state (Kafka data, throwaway PostgreSQL, logs, pid files, images) lives in .dev/.

set shell := ["bash", "-euo", "pipefail", "-c"]
set positional-arguments

# TensorFlow's oneDNN kernels make the detector about 1.5x faster on x86 CPUs; TensorFlow turns them
# on by itself only on some Intel CPUs. Set TF_ENABLE_ONEDNN_OPTS=0 to compare.
export TF_ENABLE_ONEDNN_OPTS := env_var_or_default("TF_ENABLE_ONEDNN_OPTS", "1")

# HTTP ports when the roles run as separate processes (non-gateway roles serve only
# /health/* and /metrics there). `just dev` uses AIQ_HTTP_PORT, default 8080; `just dev --split` runs
# api (gateway,ingest,queries) there, inference on 8082 and the results writer on 8083.
gateway_port := "8080"
ingest_port := "8081"
inference_port := "8082"
results_port := "8083"
queries_port := "8084"
webhooks_port := "8085"
all_roles := "gateway,ingest,queries,inference,results,webhooks"

# List the recipes
default:
    @just --list --unsorted

# Build the runnable jar app/target/aiq-circles.jar (tests skipped)
build:
    mvn -B -q -DskipTests package

# --split: the chart's layout, api (gateway,ingest,queries) :8080, inference :8082 and the results writer
# :8083 as three processes without a cluster (Ctrl-C or just stop ends them; --s3: all on one S3 bucket).
# --k8s [--istio]: on a kind cluster (KEDA, the image, in-cluster Kafka/PostgreSQL, the chart, a smoke test).
# Every role in one JVM with Kafka + PostgreSQL (--background detaches; --s3: images in a local S3 server); --split [--s3]: the chart's three processes; --k8s: on kind
dev *args:
    #!/usr/bin/env bash
    set -euo pipefail
    for arg in "$@"; do
      if [[ "$arg" == --k8s ]]; then
        exec scripts/k8s.sh up "$@"
      fi
    done
    for arg in "$@"; do
      if [[ "$arg" == --split ]]; then
        exec scripts/app.sh split "$@"
      fi
    done
    exec scripts/app.sh start app {{ all_roles }} "${AIQ_HTTP_PORT:-8080}" "$@"

# Build the container image with Jib, no Docker daemon needed: app/target/jib-image.tar; --help for options
image *args:
    @scripts/image.sh "$@"

# Run the tests (mvn -B test); extra args pass through, e.g. `just test -pl gateway-verticle -am`.
# --k8s: bring the kind cluster up (as just dev --k8s) and run the API smoke test against it
test *args:
    #!/usr/bin/env bash
    set -euo pipefail
    for arg in "$@"; do
      if [[ "$arg" == --k8s ]]; then
        exec scripts/k8s.sh up "$@"
      fi
    done
    eval "$(scripts/postgres.sh ensure)"
    # the tests start their own in-process Kafka unless AIQ_KAFKA_BOOTSTRAP is set
    unset AIQ_KAFKA_BOOTSTRAP
    mvn -B test "$@"
    # the Gatling simulations live outside the reactor (their own Netty): compiling them keeps them from rotting
    mvn -B -q -f load-test/pom.xml test-compile
    echo "load-test simulations: compiled"
    # the dev broker's cluster ids (a generated id once began with '-' and broke every start)
    scripts/test-kafka-cluster-id.sh

# Run only the gateway role (API on :8080), clustered with `just ingest` and `just queries`; --background detaches
gateway *args:
    @scripts/app.sh start gateway gateway {{ gateway_port }} "$@"

# Run only the ingest role (health/metrics on :8081), clustered with the gateway; --background detaches
ingest *args:
    @scripts/app.sh start ingest ingest {{ ingest_port }} "$@"

# Run only the queries role (health/metrics on :8084), clustered with the gateway; --background detaches
queries *args:
    @scripts/app.sh start queries queries {{ queries_port }} "$@"

# Run only the inference role (health/metrics on :8082), no cluster needed; --background detaches
inference *args:
    @scripts/app.sh start inference inference {{ inference_port }} "$@"

# Run only the results writer (health/metrics on :8083), no cluster needed; --background detaches
results *args:
    @scripts/app.sh start results results {{ results_port }} "$@"

# Run only the webhooks role (health/metrics on :8085), no cluster needed; --background detaches
webhooks *args:
    @scripts/app.sh start webhooks webhooks {{ webhooks_port }} "$@"

# Show Kafka, PostgreSQL and background app processes with their /health/ready answer
status:
    @scripts/kafka.sh status || true
    @scripts/postgres.sh status || true
    @scripts/app.sh status

# Print /health/live and /health/ready of the app on a port (default 8080)
health port=gateway_port:
    @scripts/app.sh health "$1"

# Follow a log: app (just dev --background), api (just dev --split), gateway, ingest, queries, inference, results, kafka, postgres
logs role="app":
    #!/usr/bin/env bash
    set -euo pipefail
    case "$1" in
      kafka) file=.dev/kafka/kafka.log ;;
      postgres)
        [[ -s .dev/postgres.location ]] || { echo "no throwaway PostgreSQL here (the system server logs elsewhere)" >&2; exit 1; }
        file="$(cat .dev/postgres.location)/postgres.log" ;;
      *) file=".dev/logs/$1.log" ;;
    esac
    [[ -f "$file" ]] || { echo "no log at $file (started with --background?)" >&2; exit 1; }
    exec tail -n 100 -F "$file"

# Print the URLs and one curl example per API route
endpoints port=gateway_port:
    #!/usr/bin/env bash
    set -euo pipefail
    base="http://localhost:$1"
    cat <<EOF
    API          $base
    Swagger UI   $base/docs
    OpenAPI      $base/openapi.yaml
    AsyncAPI     $base/asyncapi.yaml   (the Kafka events; just watch prints them as they happen)
    health       $base/health/live   $base/health/ready
    metrics      $base/metrics

    # upload an image (multipart field "file"; a raw body with an image Content-Type works too) -> 202 + jobId
    curl -s -F file=@coins.jpg $base/images
    curl -s -H 'Content-Type: image/jpeg' --data-binary @coins.jpg $base/images
    # job status (queued -> processing -> succeeded | failed); Prefer: wait=N holds the answer up to N s
    curl -s -H 'Prefer: wait=5' $base/jobs/JOB_ID
    # list images, paged (pass the cursor from the previous answer)
    curl -s '$base/images?limit=20'
    # one image
    curl -s $base/images/IMAGE_ID
    # detected objects of an image: {object_id, bbox}
    curl -s $base/images/IMAGE_ID/objects
    # one object: bbox, centroid, radius
    curl -s $base/images/IMAGE_ID/objects/OBJECT_ID
    # health, metrics, API document
    curl -s $base/health/live
    curl -s $base/health/ready
    curl -s $base/metrics
    curl -s $base/openapi.yaml
    EOF

# Stop background app/role processes, the dev Kafka broker, the dev S3 server (--s3) and the throwaway PostgreSQL
stop:
    @scripts/app.sh stop
    @scripts/kafka.sh stop
    @scripts/s3proxy.sh stop
    @scripts/postgres.sh stop

# Stop everything, drop the dev database, mvn clean, delete .dev/ (Kafka data, images, S3 objects, logs); --force: even in use; --k8s [--force]: delete the kind cluster instead
clean *args:
    #!/usr/bin/env bash
    set -euo pipefail
    for arg in "$@"; do
      if [[ "$arg" == --k8s ]]; then
        exec scripts/k8s.sh down "$@"
      fi
    done
    force=()
    for arg in "$@"; do
      case "$arg" in
        --force) force=(--force) ;;
        *) echo "unknown option $arg (--force, --k8s)" >&2; exit 2 ;;
      esac
    done
    # (just stop stops the dev S3 server of --s3 too; its objects are under .dev/s3 and go with .dev)
    just stop
    # The database goes with the image store: jobs left in it would point at deleted images (and the
    # sweeper would republish them). Only database aiq where scripts/postgres.sh ensure made it, never one
    # AIQ_DATABASE_URL names; a throwaway cluster under .dev goes with .dev. Stops here when it is in use.
    store="$(realpath -m "${AIQ_STORE_ROOT:-.dev/images}")"
    if [[ "$store" == "$(realpath -m .dev)"/* ]]; then
      scripts/postgres.sh drop-dev-database ${force[@]+"${force[@]}"}
    else
      echo "AIQ_STORE_ROOT=$AIQ_STORE_ROOT is outside .dev: its images stay, and so does the database that indexes them"
    fi
    mvn -B -q clean
    rm -rf .dev

# Check the tools: java 17+, mvn, just, curl, PostgreSQL (required); node/npm, jq, shellcheck, Chromium
check-deps:
    @scripts/deps.sh check

# Install what is missing (Debian/Ubuntu apt-get, npm for just) and pre-fetch Maven dependencies
install-deps:
    @scripts/deps.sh install

# Lint the shell scripts (shellcheck) and the justfile format
lint:
    #!/usr/bin/env bash
    set -euo pipefail
    if command -v shellcheck >/dev/null 2>&1; then
      shellcheck -x aiq scripts/*.sh .ci/run
      echo "shellcheck: ok"
    else
      echo "shellcheck is not installed: shell scripts not checked (just install-deps installs it)"
    fi
    just --unstable --fmt --check
    echo "justfile format: ok"

# Evaluate a detector on a COCO dataset (coins-dev by default): --mode api, --compare a.json b.json, --help
eval *args: _eval-jar
    @java -jar eval/target/aiq-eval.jar "$@"

# Train the coin detector (TensorFlow Java) and export models/circles; --help lists the options
train *args: _eval-jar
    @java -cp eval/target/aiq-eval.jar io.aiq.circles.eval.train.TrainCommand "$@"

# Measure the bare model on this machine: load time, latency, throughput by batch and threads (--soak 10000 for memory)
bench-model *args: _eval-jar
    @java -cp eval/target/aiq-eval.jar io.aiq.circles.eval.bench.ModelBenchmark "$@"

# Load-test a running `just dev` with Gatling: upload-and-poll (default), burst, read-heavy or flood (above capacity).
# Options: --rate N (users/s) --duration S --url URL --images DIR --p99-ms MS --burst N --api-key KEY
load-test *args:
    #!/usr/bin/env bash
    set -euo pipefail
    scenario=upload-and-poll
    if [[ $# -gt 0 && "$1" != --* ]]; then scenario="$1"; shift; fi
    case "$scenario" in
      upload-and-poll) simulation=UploadAndPollSimulation ;;
      burst) simulation=BurstSimulation ;;
      read-heavy) simulation=ReadHeavySimulation ;;
      flood) simulation=FloodSimulation ;;
      *) echo "unknown scenario '$scenario' (upload-and-poll, burst, read-heavy, flood)" >&2; exit 2 ;;
    esac
    url=http://127.0.0.1:${AIQ_HTTP_PORT:-8080}
    props=()
    while [[ $# -gt 0 ]]; do
      [[ $# -ge 2 ]] || { echo "$1 needs a value" >&2; exit 2; }
      case "$1" in
        --rate) props+=("-Drate=$2") ;;
        --duration) props+=("-Dduration=$2") ;;
        --url) url="${2%/}" ;;
        --images) props+=("-Dimages=$(realpath "$2")") ;;
        --p99-ms) props+=("-Dp99Ms=$2") ;;
        --burst) props+=("-Dburst=$2") ;;
        --api-key) props+=("-DapiKey=$2") ;;
        *) echo "unknown option $1 (--rate, --duration, --url, --images, --p99-ms, --burst, --api-key)" >&2; exit 2 ;;
      esac
      shift 2
    done
    if ! curl -fsS -o /dev/null "$url/health/ready"; then
      echo "nothing ready at $url: start the service first (just dev --background), or pass --url" >&2
      exit 1
    fi
    echo "Gatling $scenario against $url ${props[*]}"
    mvn -B -q -f load-test/pom.xml gatling:test -Dgatling.simulationClass="io.aiq.circles.load.$simulation" \
      -DbaseUrl="$url" ${props[@]+"${props[@]}"}
    report="$(ls -td load-test/target/gatling/*/ | head -n 1)"
    echo "report: ${report}index.html"

# Benchmark this machine: the bare model; accept at 1/8/32 connections, reads and the drain (load from
# wrk, installed if missing); then the whole pipeline (Kafka and PostgreSQL as for just dev). Prints a
# table and appends it to docs/benchmarks.md. Options: --load-seconds S (wrk phases) --seconds S
# (pipeline phases) --soak N (images) --drain-only (the bare model and the drain alone, not appended)
bench *args: build _eval-jar
    #!/usr/bin/env bash
    set -euo pipefail
    scripts/deps.sh ensure bench
    eval "$(scripts/postgres.sh ensure)"
    bootstrap="$(scripts/kafka.sh start)"
    # a database of its own, made afresh: the figures must not depend on what just dev has stored
    server="${AIQ_DATABASE_URL%/*}"
    psql -X -q "$server/postgres" -c "DROP DATABASE IF EXISTS aiq_bench" -c "CREATE DATABASE aiq_bench"
    java -cp eval/target/aiq-eval.jar io.aiq.circles.eval.bench.Bench --kafka "$bootstrap" \
      --database-url "$server/aiq_bench" --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
      --append docs/benchmarks.md "$@"

# Options: --all (every topic), --json (raw values), --from-beginning, --bootstrap HOST:PORT, --topic-prefix P, --group G.
# Print detection events as they happen, as another team's consumer would (aiq.detections.completed); --help
watch *args: _watch-jar
    @java -jar event-watch/target/aiq-watch.jar "$@"

# (re)build event-watch/target/aiq-watch.jar when its sources changed
_watch-jar:
    #!/usr/bin/env bash
    set -euo pipefail
    jar=event-watch/target/aiq-watch.jar
    if [[ ! -f "$jar" ]] || [[ -n "$(find event-watch/src event-watch/pom.xml -newer "$jar" -print -quit)" ]]; then
      mvn -B -q -DskipTests -pl event-watch -am install
    fi

# (re)build eval/target/aiq-eval.jar when its sources changed
_eval-jar:
    #!/usr/bin/env bash
    set -euo pipefail
    jar=eval/target/aiq-eval.jar
    if [[ ! -f "$jar" ]] || [[ -n "$(find eval/src eval/pom.xml contracts/src config/src inference-verticle/src image-validation/src -newer "$jar" -print -quit)" ]]; then
      mvn -B -q -DskipTests -pl eval -am install
    fi
