#!/usr/bin/env python3
"""The TOTP code (RFC 6238: HMAC-SHA1, six digits, 30 s) of a base32 SECRET at a time.

    totp.py SECRET [CLOCK STARTED]

With CLOCK (an RFC 3339 instant a server was started on with --clock) and STARTED (the Unix
time it started), the time is the server's: CLOCK plus the seconds since STARTED. For the
benchmarks' sign-ins as an admin, whose role needs a second factor.
"""
import base64, datetime, hashlib, hmac, struct, sys, time

secret = sys.argv[1]
now = time.time()
if len(sys.argv) > 3:
    start = datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")).timestamp()
    now = start + (now - float(sys.argv[3]))
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
digest = hmac.new(key, struct.pack(">Q", int(now // 30)), hashlib.sha1).digest()
offset = digest[-1] & 15
print("%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000))
