#!/usr/bin/env bash
# Web, Celery worker and Celery beat together on the embedded stack (SQLite + filesystem broker).
# Ctrl-C stops all three.
set -u
BIN=.venv/bin
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping web, worker and beat..."
  kill "${pids[@]}" 2>/dev/null
  wait 2>/dev/null
}
trap stop INT TERM EXIT
$BIN/python manage.py runserver 127.0.0.1:8000 --noreload & pids+=($!)
$BIN/celery -A config worker --loglevel=INFO --concurrency=2 --hostname=embedded@%h & pids+=($!)
$BIN/celery -A config beat --loglevel=INFO --scheduler django_celery_beat.schedulers:DatabaseScheduler \
  --pidfile= & pids+=($!)
sleep 2
cat <<MSG

  Web:        http://127.0.0.1:8000/          (log in: http://127.0.0.1:8000/login/)
  API docs:   http://127.0.0.1:8000/api/docs/
  Admin:      http://127.0.0.1:8000/admin/
  Logins (password demo-pass-2026): applicant1 applicant2 intake1 officer1 officer2 reviewer1 head1
                                    recon1 auditor1 admin
  Ctrl-C stops web, worker and beat.

MSG
# Whichever of the three ends first ends the others.
wait -n
