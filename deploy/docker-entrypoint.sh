#!/bin/sh
# Braided's container entrypoint: turn mounted secret files into settings, point the
# screen at a baked-in model, then run the command (`braided serve submission`, ...).
set -eu

# Compose (and Docker swarm) mounts secrets as files under /run/secrets. A file named
# like a setting (SESSION_SECRET, NATS_PASSWORD, DATABASE_URL, ...) becomes that
# environment variable, so no secret has to sit in compose.yaml or the environment of
# the host. Kubernetes sets them from Secrets directly and mounts nothing here.
secrets_dir="${BRAIDED_SECRETS_DIR:-/run/secrets}"
if [ -d "$secrets_dir" ]; then
  for f in "$secrets_dir"/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    case "$name" in
      *[!A-Z0-9_]* | [!A-Z]*) continue ;;  # not a setting's name (e.g. a .creds file)
    esac
    # A value set explicitly in the environment wins over a file.
    if [ -z "$(printenv "$name" 2>/dev/null || true)" ]; then
      value=$(cat "$f")
      export "$name=$value"
    fi
  done
fi

# A model baked in with --build-arg DETOXIFY_BAKE_MODEL: used unless the operator
# configured another checkpoint.
model_dir="${BRAIDED_MODEL_DIR:-/opt/braided/model}"
if [ -z "${DETOXIFY_CHECKPOINT:-}" ] && [ -e "$model_dir/checkpoint.ckpt" ]; then
  export DETOXIFY_CHECKPOINT="$model_dir/checkpoint.ckpt"
  export DETOXIFY_HF_CONFIG="$model_dir/hf-config"
  if [ -z "${DETOXIFY_MODEL:-}" ] && [ -f "$model_dir/MODEL" ]; then
    DETOXIFY_MODEL=$(cat "$model_dir/MODEL")
    export DETOXIFY_MODEL
  fi
fi

exec "$@"
