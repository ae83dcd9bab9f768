#!/usr/bin/env bash
# Make sure a RabbitMQ broker answers on 127.0.0.1:5672 with its management API on :15672
# (the tests create a throwaway vhost per test through it). Starts a local rabbitmq-server if one
# is installed and stopped; otherwise says how to get one.
set -u
AMQP_PORT=${AMQP_PORT:-5672}
MGMT_URL=${RABBIT_API_URI:-http://guest:guest@127.0.0.1:15672}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
mgmt_up() { python3 - "$MGMT_URL" <<'PY' 2>/dev/null
import sys, urllib.request, base64
from urllib.parse import urlparse
u = urlparse(sys.argv[1])
req = urllib.request.Request("http://%s:%s/api/overview" % (u.hostname, u.port or 15672))
req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % (u.username, u.password)).encode()).decode())
urllib.request.urlopen(req, timeout=2)
PY
}
wait_for() {  # wait_for <what> <seconds> <command...>
  local what=$1 seconds=$2; shift 2
  for ((i = 0; i < seconds * 2; i++)); do "$@" && return 0; sleep 0.5; done
  echo "RabbitMQ: $what did not come up within ${seconds}s; see the RabbitMQ log (rabbitmq-diagnostics log_tail)." >&2
  return 1
}

if ! port_open "$AMQP_PORT"; then
  if command -v rabbitmq-server >/dev/null; then
    echo "==> RabbitMQ is not running: starting rabbitmq-server"
    rabbitmq-server -detached || true
    wait_for "the AMQP port $AMQP_PORT" 60 port_open "$AMQP_PORT" || exit 1
  else
    cat >&2 <<'MSG'
Parcours needs a RabbitMQ broker on 127.0.0.1:5672 and none answers, nor is one installed.
Install one, then run this command again:
  Debian/Ubuntu:  sudo apt-get install rabbitmq-server && sudo rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus
  macOS:          brew install rabbitmq && brew services start rabbitmq
  container:      docker run -d -p 5672:5672 -p 15672:15672 -p 15692:15692 rabbitmq:3.10-management
Or point the services at another broker with AMQP_URI.
MSG
    exit 1
  fi
fi

if ! mgmt_up; then
  if command -v rabbitmq-plugins >/dev/null; then
    echo "==> enabling RabbitMQ's management and prometheus plugins"
    rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus >/dev/null || true
  fi
  wait_for "the management API ($MGMT_URL)" 60 mgmt_up || {
    echo "Enable it with: rabbitmq-plugins enable rabbitmq_management rabbitmq_prometheus" >&2; exit 1; }
fi
echo "==> RabbitMQ is up (AMQP :$AMQP_PORT, management :15672)"
