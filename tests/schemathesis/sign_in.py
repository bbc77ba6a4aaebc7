"""Signs a demo account in through the pages (password, then enrolling a
TOTP second factor) and prints the headers an API client sends: the session
cookie and the CSRF token. Usage: sign_in.py BASE_URL LOGIN PASSWORD"""

import base64
import hashlib
import hmac
import re
import struct
import sys
import time

import requests

base, login, password = sys.argv[1], sys.argv[2], sys.argv[3]
http = requests.Session()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def totp(secret: str) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


page = http.get(f"{base}/sign-in").text
enrol = http.post(f"{base}/sign-in", data={"csrf": csrf_of(page), "login_id": login, "password": password})
secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', enrol.text).group(1)
done = http.post(f"{base}/sign-in/enrol", data={"csrf": csrf_of(enrol.text), "code": totp(secret)})
assert done.ok, done.status_code
me = http.get(f"{base}/api/v1/me").json()
cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
print(f"Cookie: {cookie}")
print(f"X-CSRF-Token: {me['csrf_token']}")
