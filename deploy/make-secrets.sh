#!/bin/sh
# Generate every secret the Compose deployment reads into deploy/secrets/ (mode 0600,
# never committed): the PostgreSQL password and matching DATABASE_URL, SESSION_SECRET,
# and one NATS password per identity of deploy/nats/auth.conf. Existing files are
# kept, so running it again never rotates anything by surprise (RUNBOOK.md rotates).
#
#   sh deploy/make-secrets.sh [DIR]      # default: deploy/secrets
set -eu
dir="${1:-$(dirname "$0")/secrets}"
umask 077
mkdir -p "$dir"

random() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

write() {  # write NAME VALUE, unless NAME exists
  [ -e "$dir/$1" ] || printf '%s' "$2" > "$dir/$1"
}

write postgres_password "$(random)"
write DATABASE_URL "postgresql://braided:$(cat "$dir/postgres_password")@postgres:5432/braided"
write SESSION_SECRET "$(random)"
for identity in SUBMISSION MODERATION MODERATION_WORKER PUBLISHING ADMIN SYS; do
  write "${identity}_NATS_PASSWORD" "$(random)"
done
echo "secrets in $dir"
