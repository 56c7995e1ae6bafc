"""A local SMTP server that accepts every message and keeps nothing but a count.

The benchmark sends digests through Django's real SMTP backend to it, so the time measured
includes the protocol (one connection per batch, a MAIL / RCPT / DATA exchange per
message) and not a mail server's own work. Standard library only: enough SMTP for
smtplib (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), one thread per connection, in a
process of its own (forked), so that it does not take the sender's interpreter lock the
way a mail server on another machine would not.

    with SmtpSink() as sink:
        ...send to ("127.0.0.1", sink.port)...
    sink.messages, sink.connections
"""

import multiprocessing
import socketserver


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, *lines: str) -> None:
        """One write per reply, its lines together, as a mail server writes them: written
        line by line, a multi-line reply (EHLO's) met Nagle's algorithm and the client's
        delayed ACK, and every connection waited 40 ms that no real server makes it wait."""
        self.wfile.write(b"".join(line.encode("ascii") + b"\r\n" for line in lines))

    def handle(self) -> None:
        sink: SmtpSink = self.server.sink  # type: ignore[attr-defined]
        with sink.lock:
            sink._connections.value += 1
        self.reply("220 bench-sink ESMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self.reply("250-bench-sink", "250 8BITMIME")
            elif verb == b"DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                while self.rfile.readline() not in (b".\r\n", b".\n", b""):
                    pass
                with sink.lock:
                    sink._messages.value += 1
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                self.reply("250 ok")


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink:
    def __init__(self, host: str = "127.0.0.1"):
        context = multiprocessing.get_context("fork")
        self.lock = context.Lock()
        self._messages = context.Value("l", 0, lock=False)
        self._connections = context.Value("l", 0, lock=False)
        self._server = _Server((host, 0), _Handler)  # bound and listening before the fork
        self._server.sink = self  # type: ignore[attr-defined]
        self.host, self.port = self._server.server_address[:2]
        self._process = context.Process(target=self._server.serve_forever, daemon=True)

    @property
    def messages(self) -> int:
        return self._messages.value

    @property
    def connections(self) -> int:
        return self._connections.value

    def __enter__(self) -> "SmtpSink":
        self._process.start()
        return self

    def __exit__(self, *exc) -> None:
        self._process.terminate()
        self._process.join(timeout=10)
        self._server.server_close()
