#!/bin/sh
# One signed request the way a shell user would send it, for `xargs -P C -n 1 sh curl_one.sh`:
# date(1) for X-Date, openssl for the HMAC-SHA1, base64 + sed for the form-escaped data URI,
# curl to POST it. Answer saved as $BENCH_OUT/<name>.json. No retries.
set -eu
image=$1
x_date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
signature=$(printf 'x-date: %s\nx-source: market' "$x_date" \
  | openssl dgst -sha1 -hmac "$BATCH_OCR_SECRET_KEY" -binary | base64)
body=$(mktemp)
{
  printf 'image=data%%3Aimage%%2Fjpeg%%3Bbase64%%2C'
  base64 -w0 "$image" | sed -e 's/+/%2B/g' -e 's#/#%2F#g' -e 's/=/%3D/g'
  printf '&url='
} > "$body"
curl -sS -X POST "$BENCH_URL" \
  -H 'X-Source: market' -H "X-Date: $x_date" \
  -H "Authorization: hmac id=\"$BATCH_OCR_SECRET_ID\", algorithm=\"hmac-sha1\", headers=\"x-date x-source\", signature=\"$signature\"" \
  -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-binary @"$body" -o "$BENCH_OUT/${image##*/}.json"
rm -f "$body"
