"""An authoritative DNS server for tests, answering from a JSON zone file.

``python -m tests.support.dnsserver PORT ZONE_FILE`` listens on UDP and TCP
on 127.0.0.1.  The zone file maps names to records and is read again whenever
it changes, so a test edits DNS by rewriting the file::

    {"records": {"_pigeon.ls.shop.test": {"TXT": [["part one", "part two"]]},
                 "ls.shop.test": {"CNAME": ["links.pigeon.test"]}},
     "silent": ["slow.shop.test"]}

A name that is not in the zone, and has no names below it, is NXDOMAIN; a
name in the zone without the asked type, or one that only has names below it,
is an empty NOERROR answer (NODATA); a ``silent`` name gets no
answer at all, so resolvers time out.  TXT values are lists of strings, one
list per record, each string one character-string on the wire.
"""

from __future__ import annotations

import asyncio
import struct
import sys
from pathlib import Path
from typing import Any

import orjson
import structlog
from dnslib import AAAA, CNAME, QTYPE, RCODE, RR, TXT, A, DNSRecord

from libs.common.logs import configure_logging

log = structlog.get_logger(__name__)

# Nothing may be cached: each test edits the zone and expects the change seen.
TTL = 0
RDATA = {"A": A, "AAAA": AAAA, "CNAME": CNAME}


class Zone:
    """The records of the zone file, reloaded when the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._records: dict[str, dict[str, list[Any]]] = {}
        self._silent: frozenset[str] = frozenset()

    def _refresh(self) -> None:
        try:
            status = self._path.stat()
            # Writers replace the file, so a new inode means new contents.
            stamp = (status.st_ino, status.st_mtime_ns)
        except FileNotFoundError:
            self._records, self._silent, self._stamp = {}, frozenset(), None
            return
        if stamp == self._stamp:
            return
        data = orjson.loads(self._path.read_bytes())
        self._records = {
            _canonical(name): records
            for name, records in data.get("records", {}).items()
        }
        self._silent = frozenset(_canonical(name) for name in data.get("silent", []))
        self._stamp = stamp

    def answer(self, query: bytes) -> bytes | None:
        """The reply to a wire-format query, or None to stay silent."""
        self._refresh()
        request = DNSRecord.parse(query)
        name = _canonical(str(request.q.qname))
        if name in self._silent:
            log.info("dns_query_ignored", name=name)
            return None
        reply = request.reply()
        records = self._records.get(name)
        if records is None and not self._has_children(name):
            reply.header.rcode = RCODE.NXDOMAIN
        elif records is None:
            pass  # an empty non-terminal exists, with no records of its own
        else:
            qtype = QTYPE[request.q.qtype]
            for rr in _resource_records(name, qtype, records):
                reply.add_answer(rr)
        log.info("dns_query", name=name, rcode=RCODE[reply.header.rcode])
        packed: bytes = reply.pack()
        return packed

    def _has_children(self, name: str) -> bool:
        return any(other.endswith("." + name) for other in self._records)


def _canonical(name: str) -> str:
    return name.rstrip(".").lower()


def _resource_records(name: str, qtype: str, records: dict[str, list[Any]]) -> list[RR]:
    """The records of ``name`` that answer ``qtype``; a CNAME answers any type."""
    answers: list[RR] = []
    if "CNAME" in records and qtype != "CNAME":
        qtype = "CNAME"
    for value in records.get(qtype, []):
        if qtype == "TXT":
            rdata = TXT([part.encode() for part in value])
        else:
            rdata = RDATA[qtype](value)
        answers.append(RR(name, getattr(QTYPE, qtype), rdata=rdata, ttl=TTL))
    return answers


class UdpServer(asyncio.DatagramProtocol):
    def __init__(self, zone: Zone) -> None:
        self._zone = zone
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = self._zone.answer(data)
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)


async def serve_tcp(
    zone: Zone, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """DNS over TCP: each message is preceded by its two-byte length."""
    try:
        while True:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
            reply = zone.answer(await reader.readexactly(length))
            if reply is None:
                continue
            writer.write(struct.pack("!H", len(reply)) + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int, zone_file: Path) -> None:
    zone = Zone(zone_file)
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(
        lambda: UdpServer(zone), local_addr=("127.0.0.1", port)
    )
    server = await asyncio.start_server(
        lambda r, w: serve_tcp(zone, r, w), "127.0.0.1", port
    )
    log.info("dns_server_listening", port=port, zone=str(zone_file))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    configure_logging("INFO", json=True)
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2])))
