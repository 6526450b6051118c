"""HTTP/1.1 serving for the local stack's servers (the sandbox bank, the API): a burst of
connections is queued, not refused; each connection has its thread; and a keep-alive
connection is answered without the delayed-ACK stall.

The stall: http.server writes a reply in two send() calls, the headers (end_headers) and
then the body. On a connection that has already carried a request, Nagle's algorithm holds
the small second segment until the first is acknowledged, and the client delays that ACK
(40 ms on Linux) hoping to piggyback it on data it never sends: every request after the first
waits 40 ms. Two fixes, both here: replies are buffered and leave in one send() (flushed by
BaseHTTPRequestHandler after each request), and TCP_NODELAY is set on every accepted socket so
a reply larger than the buffer is not held either.

socketserver listens with a backlog of 5: a burst of connections overflows the accept queue
and the kernel drops (Linux) or resets (BSD, macOS) the rest. LISTEN_BACKLOG is the queue
asked for; the kernel caps it at net.core.somaxconn.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LISTEN_BACKLOG = 1024
REPLY_BUFFER_BYTES = 64 * 1024


class LoopbackHTTPServer(ThreadingHTTPServer):
    """A thread per connection (daemon threads: a stop does not wait for idle keep-alive
    connections) and a listen backlog that takes a burst."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG


class PromptReplies(BaseHTTPRequestHandler):
    """Mix in before a BaseHTTPRequestHandler subclass: each reply leaves in one send()."""

    disable_nagle_algorithm = True
    wbufsize = REPLY_BUFFER_BYTES

    def handle_expect_100(self) -> bool:
        """The interim 100 Continue must not wait in the buffer for the final reply."""
        accepted = super().handle_expect_100()
        self.wfile.flush()
        return accepted
