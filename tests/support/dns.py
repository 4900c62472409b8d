"""A DNS server of the tests' own on loopback, and the zone it serves."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from dnslib import DNSRecord

from .processes import REPO_ROOT, STOP_TIMEOUT_S, free_port

STARTUP_TIMEOUT_S = 20.0


class DnsZone:
    """The records the test DNS server answers with; each change is atomic."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records: dict[str, dict[str, list[Any]]] = {}
        self._silent: set[str] = set()
        self._write()

    def publish(self, name: str, rtype: str, *values: Any) -> None:
        """Make ``name`` answer ``rtype`` with ``values`` (TXT: lists of strings)."""
        self._records.setdefault(name, {})[rtype] = list(values)
        self._write()

    def publish_txt(self, name: str, *strings: str) -> None:
        """One TXT record at ``name`` made of ``strings``."""
        self.publish(name, "TXT", list(strings))

    def withdraw(self, name: str, rtype: str | None = None) -> None:
        """Remove ``name``'s records of ``rtype``, or the whole name."""
        if rtype is None:
            self._records.pop(name, None)
        else:
            self._records.get(name, {}).pop(rtype, None)
        self._write()

    def silence(self, name: str) -> None:
        """Let queries for ``name`` go unanswered, as an unreachable server would."""
        self._silent.add(name)
        self._write()

    def _write(self) -> None:
        data = {"records": self._records, "silent": sorted(self._silent)}
        scratch = self.path.with_suffix(".tmp")
        scratch.write_bytes(orjson.dumps(data))
        os.replace(scratch, self.path)


class DnsServer:
    """``tests.support.dnsserver`` as its own process, serving ``zone``."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.zone = DnsZone(directory / "zone.json")
        self.log_path = directory / "dns.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """``host:port``, as ``PIGEON_DNS_NAMESERVERS`` takes it."""
        return f"127.0.0.1:{self.port}"

    def spawn(self) -> None:
        command = [sys.executable, "-m", "tests.support.dnsserver"]
        with self.log_path.open("ab") as log_file:
            self._proc = subprocess.Popen(
                [*command, str(self.port), str(self.zone.path)],
                cwd=REPO_ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        """Start the server and wait until it answers."""
        self.spawn()
        assert self._proc is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not await asyncio.to_thread(self._answers):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"DNS server did not start: {self.log_path}")
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def _answers(self) -> bool:
        query = DNSRecord.question("ready.test", "TXT").pack()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.2)
            try:
                sock.sendto(query, ("127.0.0.1", self.port))
                sock.recv(512)
            except OSError:
                return False
        return True
