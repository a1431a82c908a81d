#!/usr/bin/env bash
# The bundled cluster's one-off set-up (the es-setup service in docker-compose.yml), after the
# setup service of Elastic's documented docker-compose.yml:
#   1. refuse blank secrets (Compose cannot: it interpolates the whole file before profiles apply);
#   2. generate the CA and one certificate per node into $CERTS_DIR, once;
#   3. wait for the cluster, then set kibana_system's password and create the newswire roles and
#      users through the security API.
# Every wait and call has a bounded number of attempts; a permanent answer (400, 401, 403, 404)
# stops at once with the reason, since retrying cannot fix a wrong password or a bad request.
set -euo pipefail

ES_URL=${ES_URL:-https://es01:9200}
CERTS_DIR=${CERTS_DIR:-/usr/share/elasticsearch/config/certs}
ES_NODES=${ES_NODES:-es01 es02 es03}
ATTEMPTS=${ES_SETUP_ATTEMPTS:-60}
INTERVAL=${ES_SETUP_INTERVAL:-5}
CA="$CERTS_DIR/ca/ca.crt"

fail() { echo "es-setup: $*" >&2; exit 1; }

require() {  # NAME [MIN_LENGTH]
  local value=${!1:-}
  [ -n "$value" ] || fail "set $1 in .env (it is blank)"
  [ "${#value}" -ge "${2:-1}" ] || fail "$1 must be at least $2 characters"
}

require ELASTIC_PASSWORD
require KIBANA_SYSTEM_PASSWORD
require KIBANA_ENCRYPTION_KEY 32
require ES_PASSWORD
if [ -n "${KIBANA_USERNAME:-}" ]; then
  require KIBANA_PASSWORD
fi

make_certs() {
  cd /usr/share/elasticsearch
  if [ ! -f "$CERTS_DIR/ca.zip" ]; then
    echo "creating the CA"
    bin/elasticsearch-certutil ca --silent --pem -out "$CERTS_DIR/ca.zip"
    unzip -o -q "$CERTS_DIR/ca.zip" -d "$CERTS_DIR"
  fi
  if [ ! -f "$CERTS_DIR/certs.zip" ]; then
    echo "creating the node certificates"
    {
      echo "instances:"
      for node in $ES_NODES; do
        printf '  - name: %s\n    dns: [%s, localhost]\n    ip: [127.0.0.1]\n' "$node" "$node"
      done
    } > "$CERTS_DIR/instances.yml"
    bin/elasticsearch-certutil cert --silent --pem -out "$CERTS_DIR/certs.zip" \
      --in "$CERTS_DIR/instances.yml" --ca-cert "$CA" --ca-key "$CERTS_DIR/ca/ca.key"
    unzip -o -q "$CERTS_DIR/certs.zip" -d "$CERTS_DIR"
  fi
  # Readable by group 0, which the Elasticsearch, Kibana and Airflow containers all run in.
  chown -R root:root "$CERTS_DIR"
  find "$CERTS_DIR" -type d -exec chmod 750 {} +
  find "$CERTS_DIR" -type f -exec chmod 640 {} +
}

if [ -z "${ES_SETUP_SKIP_CERTS:-}" ]; then
  make_certs
fi

# es_call METHOD PATH [BODY]: retries only what may pass later (no connection, 429, 5xx).
es_call() {
  local method=$1 path=$2 body=${3:-} attempt status out
  out=$(mktemp)
  for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
    status=$(curl -s -o "$out" -w '%{http_code}' --cacert "$CA" -u "elastic:$ELASTIC_PASSWORD" \
      -X "$method" -H 'Content-Type: application/json' ${body:+--data "$body"} "$ES_URL$path" || true)
    case "$status" in
      200|201) rm -f "$out"; return 0 ;;
      400|401|403|404) fail "$method $path answered $status: $(head -c 500 "$out")" ;;
    esac
    echo "es-setup: $method $path: ${status/#000/no connection}, attempt $attempt of $ATTEMPTS"
    sleep "$INTERVAL"
  done
  fail "$method $path: no answer after $ATTEMPTS attempts"
}

# As Elastic's setup does: the node is up, with security on, once it asks for credentials.
wait_for_node() {
  local attempt status
  for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
    status=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$ES_URL/" || true)
    case "$status" in
      401) return 0 ;;
      200) fail "$ES_URL answers without credentials: security is off" ;;
    esac
    echo "es-setup: waiting for $ES_URL (${status/#000/no connection}), attempt $attempt of $ATTEMPTS"
    sleep "$INTERVAL"
  done
  fail "no Elasticsearch at $ES_URL after $ATTEMPTS attempts"
}

echo "waiting for the cluster at $ES_URL"
wait_for_node
es_call GET "/_cluster/health?wait_for_status=yellow&timeout=5s"

echo "setting kibana_system's password"
es_call POST /_security/user/kibana_system/_password "{\"password\":\"$KIBANA_SYSTEM_PASSWORD\"}"

# What the pipeline needs and nothing more (docs/production.md): index templates, its own indices,
# and `monitor` so set-up can list the nodes' modules.
echo "creating role and user $ES_USERNAME"
es_call PUT /_security/role/newswire "{
  \"cluster\": [\"monitor\", \"manage_index_templates\"],
  \"indices\": [{\"names\": [\"$NEWSWIRE_INDEX_PREFIX-*\"], \"privileges\": [\"all\"]}]
}"
es_call PUT "/_security/user/$ES_USERNAME" \
  "{\"password\": \"$ES_PASSWORD\", \"roles\": [\"newswire\"]}"

# Kibana's "All" privilege in the default space, to import the saved objects; no index access.
if [ -n "${KIBANA_USERNAME:-}" ]; then
  echo "creating role and user $KIBANA_USERNAME"
  es_call PUT /_security/role/newswire_kibana '{
  "applications": [{"application": "kibana-.kibana", "privileges": ["all"], "resources": ["space:default"]}]
}'
  es_call PUT "/_security/user/$KIBANA_USERNAME" \
    "{\"password\": \"$KIBANA_PASSWORD\", \"roles\": [\"newswire_kibana\"]}"
fi
echo "es-setup: done"
