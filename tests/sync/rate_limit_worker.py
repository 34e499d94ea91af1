"""A worker process for ``test_rate_limit_processes``: sends requests through the connectors'
client builder with a rate limiter, as a connector in a ``ledgerlink worker`` process would.

    python -m tests.sync.rate_limit_worker --base-url URL --token T --requests N
        [--database-url URL | --in-memory] [--threads 2]

It prints ``ready``, waits for a line on stdin (so several workers start together), sends its
requests and prints one JSON line: the count of each HTTP status it got. A 429 is counted, not
retried: the test wants to see every one.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from collections import Counter
from collections.abc import Generator

import httpx2
import structlog

from ledgerlink.connectors._kit.http import build_client
from ledgerlink.connectors._kit.limiter import (
    LimiterKey,
    RateLimiter,
    SlidingWindowLimiter,
    Window,
)
from ledgerlink.store.database import Database
from ledgerlink.store.ratelimits import RateLimitStore
from ledgerlink.sync.ratelimit import DatabaseLimiter

#: Fortnox: 25 requests per 5 s sliding window per access token.
FORTNOX = (Window(25, 5.0),)


class Bearer(httpx2.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--database-url")
    parser.add_argument("--in-memory", action="store_true")
    args = parser.parse_args(argv)
    # The client logs every exchange to stdout; unread, a full pipe would stall this process.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    limiter: RateLimiter
    if args.in_memory:
        limiter = SlidingWindowLimiter()
    else:
        limiter = DatabaseLimiter(RateLimitStore(Database(args.database_url)), max_sleep=30.0)
    key = LimiterKey.for_secret("fortnox", args.token, windows=FORTNOX)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    client = build_client(
        base_url=args.base_url, auth=Bearer(args.token), limiter=limiter, limiter_key=key
    )

    def send(count: int) -> None:
        for n in range(count):
            status = client.post("/invoices", json={"n": n}).status_code
            with lock:
                statuses[status] += 1

    shares = [
        args.requests // args.threads + (i < args.requests % args.threads)
        for i in range(args.threads)
    ]
    threads = [threading.Thread(target=send, args=(share,)) for share in shares]
    print("ready", flush=True)
    sys.stdin.readline()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    print(json.dumps({str(status): count for status, count in statuses.items()}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
