#!/usr/bin/env python3
"""An SMTP sink for the email channel's tests (tests/src/mail.rs starts it).

Listens on 127.0.0.1 at a free port and prints "SMTP sink listening on <port>" once ready.
Every accepted mail becomes two files in DIR: NNNNNN.eml (the raw data) and then
NNNNNN.json (envelope sender and recipients), so a reader that sees the .json also sees
the whole .eml. Failures are injected through DIR/fail, "<code> <times>": each DATA
answered while times > 0 gets that code instead and decrements it.

Usage: smtp_sink.py DIR
"""

import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    def injected_failure(self):
        path = os.path.join(self.directory, "fail")
        try:
            with open(path) as f:
                code, times = f.read().split()
        except (FileNotFoundError, ValueError):
            return None
        times = int(times)
        if times <= 0:
            return None
        with open(path + ".tmp", "w") as f:
            f.write(f"{code} {times - 1}")
        os.replace(path + ".tmp", path)
        return int(code)

    async def handle_DATA(self, server, session, envelope):
        code = self.injected_failure()
        if code is not None:
            return f"{code} Injected failure"
        self.count += 1
        stem = os.path.join(self.directory, f"{self.count:06}")
        raw = envelope.original_content or envelope.content
        write_atomically(stem + ".eml", raw)
        meta = {"from": envelope.mail_from, "to": list(envelope.rcpt_tos)}
        write_atomically(stem + ".json", json.dumps(meta).encode())
        return "250 Message accepted for delivery"


def write_atomically(path, data):
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


async def main(directory):
    sink = Sink(directory)
    loop = asyncio.get_running_loop()
    # 40 MB: above the 20 MB mails the benchmarks send, so the sink never refuses on size.
    server = await loop.create_server(
        lambda: SMTP(sink, data_size_limit=40 * 1024 * 1024, enable_SMTPUTF8=True),
        host="127.0.0.1",
        port=0,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"SMTP sink listening on {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
