#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Finding 4 of issue 14, measured against a real ward-collector (docs/security.md): enrolment
# floods, a revoked laptop coming back, and a known machine hash taking another laptop's device.
# Starts the collector in a fresh data directory on a free loopback port; prints one line per
# attack. Standard library only.
#   usage: tests/security/enrolment_abuse.py <path to ward-collector>
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time


def field(number, value):
    """A protobuf length-delimited field (strings here are shorter than 128 bytes)."""
    data = value.encode()
    return bytes([number << 3 | 2, len(data)]) + data


def strings(message):
    """The length-delimited fields of a protobuf message, by number."""
    out, i = {}, 0
    while i < len(message):
        key = message[i]
        length, shift, i = 0, 0, i + 1
        while True:
            byte = message[i]
            i += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        out[key >> 3] = message[i:i + length].decode(errors="replace")
        i += length
    return out


class Collector:
    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="ward-enrol-abuse-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        data = os.path.join(self.dir, "data")

        def admin(*args):
            return subprocess.run([binary, *args, "--data-dir", data], check=True,
                                  capture_output=True, text=True).stdout.strip()

        admin("init", "--host", "127.0.0.1", "--listen", f"127.0.0.1:{self.port}")
        admin("add-group", "--name", "learners", "--pubkey", "ab" * 32)
        self.secret = admin("enrolment-secret", "--group", "learners").split()[-1]
        self.token = admin("token", "create", "--role", "it", "--name", "it").split()[-1]
        self.process = subprocess.Popen([binary, "--data-dir", data, "--log-level", "error"])
        self.tls = ssl.create_default_context(cafile=os.path.join(data, "ca.pem"))
        for _ in range(100):
            try:
                if self.call("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        sys.exit("the collector did not start")

    def call(self, method, path, body=b"", auth=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls, timeout=10)
        headers = {"Content-Type": "application/x-protobuf"}
        if auth:
            headers["Authorization"] = "Bearer " + auth
        conn.request(method, path, body, headers)
        r = conn.getresponse()
        return r.status, r.read()

    def enrol(self, machine_hash):
        status, body = self.call("POST", "/v1/enrol",
                                 field(1, self.secret) + field(2, "laptop") +
                                 field(5, machine_hash))
        if status != 200:
            return status, None
        answer = strings(body)
        return status, (answer.get(1, ""), answer.get(2, ""))

    def works(self, device):
        return self.call("POST", "/v1/events", b"", f"{device[0]}.{device[1]}")[0] == 200

    def stop(self):
        self.process.terminate()
        self.process.wait()


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} <path to ward-collector>")
    c = Collector(sys.argv[1])
    try:
        statuses = [c.enrol(f"flood-{i}")[0] for i in range(50)]
        print(f"50 enrolments in a row from one address: {statuses.count(200)} accepted, "
              f"{statuses.count(429)} 429, others {len(statuses) - statuses.count(200) - statuses.count(429)}")
        time.sleep(31)  # three enrolment tokens back at 6 a minute (none needed before the fix)

        _, victim = c.enrol("victim-laptop")
        status, thief = c.enrol("victim-laptop")
        took = thief is not None and thief[0] == victim[0]
        print(f"enrolment with another laptop's machine hash: {status}, "
              f"{'took its device id' if took else 'device id not taken'}; "
              f"the real laptop's credential {'still works' if c.works(victim) else 'gets 401'}")

        status, _ = c.call("POST", f"/v1/staff/devices/{victim[0] if not took else thief[0]}/revoke",
                           b"", c.token)
        status, back = c.enrol("victim-laptop")
        came_back = back is not None
        print(f"revoked laptop enrols again: {status}, "
              f"{'back under ' + ('the same' if back[0] == victim[0] else 'a new') + ' device id' if came_back else 'kept out'}")
    finally:
        c.stop()


if __name__ == "__main__":
    main()
