#!/usr/bin/env bash
# Makes sure what the project needs on this machine is there: PostgreSQL and NATS with
# JetStream running on loopback, and poppler's pdftotext for PDF extraction.
set -euo pipefail

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if ! port_open 5432; then
  echo "PostgreSQL is not running on 127.0.0.1:5432; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
fi

if ! port_open 4222; then
  echo "NATS is not running on 127.0.0.1:4222; starting it with JetStream"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
fi

for attempt in $(seq 1 30); do
  if port_open 5432 && port_open 4222; then break; fi
  if [ "$attempt" -eq 30 ]; then
    echo "PostgreSQL or NATS did not come up within 30 seconds" >&2
    exit 1
  fi
  sleep 1
done

if ! command -v pdftotext >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing poppler-utils (pdftotext)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
  else
    echo "pdftotext is missing and this user cannot install poppler-utils; PDFs use the slower in-process extractor" >&2
  fi
fi
