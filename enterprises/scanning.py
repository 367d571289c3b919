"""Malware scanning of uploaded documents (reliability.md F6).

`get_scanner()` returns the scanner chosen by settings.MALWARE_SCANNER:

- "clamd": `ClamdScanner` streams the file to a ClamAV daemon (Debian's clamav-daemon) over its
  socket protocol, on a unix socket (CLAMD_SOCKET) or TCP (CLAMD_HOST, CLAMD_PORT).
- "eicar-only": `EicarOnlyScanner`, for development and tests only. It recognises the EICAR test
  string and NOTHING ELSE: it is no protection at all. Settings refuse it with DEBUG off unless
  MALWARE_SCANNER=eicar-only is set on purpose.

A scanner answers clean or infected; when it cannot answer it raises `ScannerUnavailable` (worth a
retry: the daemon is down or busy) or `ScanError` (retrying will not help: the daemon refused the file).
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# The 68-byte EICAR anti-virus test file (eicar.org): every scanner reports it, and it is harmless.
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

CHUNK = 64 * 1024


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str | None = None


class ScanError(Exception):
    """The scanner answered, but not with a verdict (e.g. the file exceeds clamd's StreamMaxLength)."""


class ScannerUnavailable(ScanError):
    """The scanner could not be reached or did not answer in time: try again later."""


class Scanner(Protocol):
    def scan(self, path: str) -> ScanResult: ...


class ClamdScanner:
    """clamd's INSTREAM command, with the stdlib socket module (clamd(8), "COMMANDS").

    The file is streamed, so clamd needs no access to our storage: it may run in another container.
    Commands are sent in the null-terminated form ("z" prefix); the stream is a sequence of chunks,
    each prefixed with its length as a 4-byte big-endian integer, ended by a zero-length chunk.
    """

    def __init__(
        self, *, socket_path: str = "", host: str = "", port: int = 3310, timeout: float = 60.0
    ) -> None:
        if not socket_path and not host:
            raise ImproperlyConfigured("ClamdScanner needs CLAMD_SOCKET or CLAMD_HOST.")
        self.socket_path = socket_path
        self.host = host
        self.port = port
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        try:
            if self.socket_path:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                sock.connect(self.socket_path)
                return sock
            return socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise ScannerUnavailable(f"cannot connect to clamd at {self._address()}: {exc}") from exc

    def _address(self) -> str:
        return self.socket_path or f"{self.host}:{self.port}"

    @staticmethod
    def _reply(sock: socket.socket) -> str:
        data = b""
        while not data.endswith(b"\0"):
            part = sock.recv(4096)
            if not part:
                break
            data += part
        return data.rstrip(b"\0").decode("utf-8", "replace").strip()

    def ping(self) -> bool:
        try:
            with self._connect() as sock:
                sock.sendall(b"zPING\0")
                return self._reply(sock) == "PONG"
        except (ScannerUnavailable, OSError):
            return False

    def scan(self, path: str) -> ScanResult:
        try:
            with self._connect() as sock, open(path, "rb") as fh:
                sock.sendall(b"zINSTREAM\0")
                while chunk := fh.read(CHUNK):
                    sock.sendall(struct.pack("!L", len(chunk)) + chunk)
                sock.sendall(struct.pack("!L", 0))
                reply = self._reply(sock)
        except FileNotFoundError:
            raise
        except (TimeoutError, ConnectionError) as exc:
            raise ScannerUnavailable(f"clamd at {self._address()} did not answer: {exc}") from exc
        except OSError as exc:
            # clamd closes the connection when the stream exceeds StreamMaxLength; sendall then fails.
            raise ScannerUnavailable(f"clamd at {self._address()}: {exc}") from exc
        # Replies: "stream: OK", "stream: <signature> FOUND", "<message> ERROR".
        if reply == "stream: OK":
            return ScanResult(clean=True)
        if reply.startswith("stream: ") and reply.endswith(" FOUND"):
            return ScanResult(clean=False, signature=reply[len("stream: ") : -len(" FOUND")])
        if not reply:
            raise ScannerUnavailable(f"clamd at {self._address()} closed the connection without a verdict")
        raise ScanError(f"clamd: {reply}")


class EicarOnlyScanner:
    """DEVELOPMENT ONLY — NO PROTECTION. Finds the EICAR test string and nothing else.

    It exists so that `make run` and local tests exercise the quarantine path without a ClamAV
    daemon. Any real malware passes it as clean. Production must use ClamdScanner.
    """

    def scan(self, path: str) -> ScanResult:
        overlap = len(EICAR) - 1
        tail = b""
        with open(path, "rb") as fh:
            # Read in chunks, keeping the end of the previous one so a string split across chunks is found.
            while chunk := fh.read(CHUNK):
                if EICAR in tail + chunk:
                    return ScanResult(clean=False, signature="Eicar-Test-Signature")
                tail = chunk[-overlap:]
        return ScanResult(clean=True)


def get_scanner() -> Scanner:
    kind = settings.MALWARE_SCANNER
    if kind == "clamd":
        return ClamdScanner(
            socket_path=settings.CLAMD_SOCKET,
            host=settings.CLAMD_HOST,
            port=settings.CLAMD_PORT,
            timeout=settings.CLAMD_TIMEOUT,
        )
    if kind == "eicar-only":
        return EicarOnlyScanner()
    raise ImproperlyConfigured(f"MALWARE_SCANNER must be 'clamd' or 'eicar-only', not {kind!r}.")
