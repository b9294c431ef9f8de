#!/usr/bin/env bash
# Which TLS versions and cipher suites the real `brigade` offers, as a real client finds out: for
# every suite `openssl ciphers -v ALL:COMPLEMENTOFALL` knows, one `openssl s_client` handshake
# that offers only it, against brigade with an RSA certificate and then an ECDSA one. Any suite
# accepted outside the policy fails the test: TLS 1.2 with ECDHE key exchange and an AEAD cipher
# (AES-GCM, ChaCha20-Poly1305), and TLS 1.3. TLS 1.0 and 1.1 must be refused.
#
# Usage: tls_ciphers_test.sh BRIGADE_BIN
set -euo pipefail

readonly brigade_bin=$1
workdir=$(mktemp -d)
server_pid=""

cleanup() {
  if [[ -n "$server_pid" ]]; then kill -TERM "$server_pid" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

fail() {
  printf 'tls_ciphers_test: FAIL: %s\n' "$*" >&2
  exit 1
}

# Starts brigade with the certificate and key, sets $port.
start_brigade() {
  local cert=$1 key=$2 log="$workdir/brigade.log" tries
  "$brigade_bin" --listen 127.0.0.1:0 --worker-threads 1 --tls-cert "$cert" --tls-key "$key" \
    2>"$log" &
  server_pid=$!
  for ((tries = 0; tries < 400; tries++)); do
    if grep -q 'brigade started' "$log"; then
      port=$(grep -o ' address=[0-9.]*:[0-9]*' "$log" | head -n 1 | sed 's/.*://')
      return
    fi
    kill -0 "$server_pid" 2>/dev/null || fail "brigade exited: $(cat "$log")"
    sleep 0.05
  done
  fail "brigade did not start: $(cat "$log")"
}

stop_brigade() {
  kill -TERM "$server_pid"
  wait "$server_pid" || fail "brigade exited with $? after SIGTERM"
  server_pid=""
}

# handshake ARGS...: whether an s_client handshake with these options succeeds.
handshake() {
  timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername localhost "$@" \
    </dev/null >/dev/null 2>&1
}

in_policy() {  # the `openssl ciphers -v` line of a TLS 1.2 suite
  [[ "$1" == *" Kx=ECDH "* && "$1" == *" Mac=AEAD"* &&
    ("$1" == *" Enc=AESGCM("* || "$1" == *" Enc=CHACHA20/POLY1305("*) ]]
}

check_suites() {
  local kind=$1 accepted=() refused=0 line name
  while read -r line; do
    name=${line%% *}
    if handshake -tls1_2 -cipher "$name:@SECLEVEL=0"; then
      in_policy "$line" || fail "$kind certificate: TLS 1.2 accepted $line"
      accepted+=("$name")
    else
      refused=$((refused + 1))
    fi
  done < <(openssl ciphers -v 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' | grep -v ' TLSv1.3 ')
  ((${#accepted[@]} > 0)) || fail "$kind certificate: no TLS 1.2 suite accepted"
  echo "$kind certificate, TLS 1.2: accepted ${accepted[*]}; refused $refused others"

  local suite tls13=()
  for suite in $(openssl ciphers -v 'ALL' | awk '$2 == "TLSv1.3" {print $1}'); do
    handshake -tls1_3 -ciphersuites "$suite" && tls13+=("$suite")
  done
  ((${#tls13[@]} > 0)) || fail "$kind certificate: no TLS 1.3 suite accepted"
  echo "$kind certificate, TLS 1.3: accepted ${tls13[*]}"

  local version
  for version in -tls1 -tls1_1; do
    ! handshake "$version" -cipher 'ALL:@SECLEVEL=0' || fail "$kind certificate: $version accepted"
  done
}

for kind in rsa ecdsa; do
  if [[ "$kind" == rsa ]]; then
    key_options=(-newkey rsa:2048)
  else
    key_options=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
  fi
  openssl req -x509 "${key_options[@]}" -nodes -days 1 -subj /CN=localhost \
    -keyout "$workdir/$kind-key.pem" -out "$workdir/$kind-cert.pem" 2>/dev/null
  start_brigade "$workdir/$kind-cert.pem" "$workdir/$kind-key.pem"
  check_suites "$kind"
  stop_brigade
done
echo "tls_ciphers_test: every accepted suite is within the policy"
