"""A small SMSC for the tests: a threaded SMPP server written with smpplib's PDU classes
(smpplib itself is a client library). It answers bind, submit_sm, enquire_link and
unbind; about a second after each submit_sm_resp it sends the delivery receipt as a
deliver_sm (sooner races Jasmin's DLR map), and ``mo()`` sends an inbound message to
every bound session."""

from __future__ import annotations

import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field

from smpplib import smpp

RECEIPT_DELAY = 1.0


class _Sequence:
    """What smpplib's PDUs ask of their client: sequence numbers (ours are set by hand)."""

    sequence = 0

    def next_sequence(self):
        self.sequence += 1
        return self.sequence


_CLIENT = _Sequence()


def make(name: str, sequence: int, **params):
    # smpplib keeps a sequence given as a keyword only when its client has none: set it
    pdu = smpp.make_pdu(name, client=_CLIENT, **params)
    pdu.sequence = sequence
    return pdu


@dataclass
class Submitted:
    message_id: str
    source: str
    destination: str
    data_coding: int
    short_message: bytes
    received_at: float = field(default_factory=time.time)

    @property
    def text(self) -> str:
        if self.data_coding == 8:
            return self.short_message.decode("utf-16-be")
        return self.short_message.decode("latin-1")


class _Session(threading.Thread):
    def __init__(self, server, conn):
        super().__init__(daemon=True)
        self.server, self.conn = server, conn
        self.lock = threading.Lock()
        self.seq = 1000
        self.alive = True

    def send(self, pdu) -> None:
        with self.lock:
            self.conn.sendall(pdu.generate())

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _read(self) -> bytes | None:
        head = self._exact(4)
        if head is None:
            return None
        (length,) = struct.unpack(">L", head)
        rest = self._exact(length - 4)
        return None if rest is None else head + rest

    def _exact(self, n) -> bytes | None:
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.conn.recv(n - len(buf))
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def run(self):
        try:
            while self.alive:
                raw = self._read()
                if raw is None:
                    break
                pdu = smpp.parse_pdu(raw, client=_CLIENT, allow_unknown_opt_params=True)
                self.handle(pdu)
        finally:
            self.alive = False
            with self.server.lock:
                if self in self.server.sessions:
                    self.server.sessions.remove(self)
            try:
                self.conn.close()
            except OSError:
                pass

    def handle(self, pdu):
        name = pdu.command
        if name.startswith("bind_"):
            self.send(make(name + "_resp", pdu.sequence, system_id="SMSC"))
            with self.server.lock:
                self.server.sessions.append(self)
        elif name == "submit_sm":
            mid = uuid.uuid4().hex[:10]
            sub = Submitted(
                mid,
                _s(pdu.source_addr),
                _s(pdu.destination_addr),
                int(pdu.data_coding or 0),
                pdu.short_message or b"",
            )
            with self.server.lock:
                self.server.submitted.append(sub)
            self.send(make("submit_sm_resp", pdu.sequence, message_id=mid))
            if pdu.registered_delivery:
                status = self.server.receipt_status
                t = threading.Timer(RECEIPT_DELAY, self.receipt, (sub, status))
                t.daemon = True
                t.start()
        elif name == "enquire_link":
            self.send(make("enquire_link_resp", pdu.sequence))
        elif name == "unbind":
            self.send(make("unbind_resp", pdu.sequence))
            self.alive = False
        elif name.endswith("_resp"):
            pass
        else:
            self.send(make("generic_nack", pdu.sequence))

    def receipt(self, sub: Submitted, status: str) -> None:
        if not self.alive:
            return
        stamp = time.strftime("%y%m%d%H%M")
        text = (
            f"id:{sub.message_id} sub:001 dlvrd:{'001' if status == 'DELIVRD' else '000'} "
            f"submit date:{stamp} done date:{stamp} stat:{status} err:000 text:"
        ).encode()
        states = {"DELIVRD": 2, "UNDELIV": 5, "EXPIRED": 3, "REJECTD": 8}
        self.send(
            make(
                "deliver_sm",
                self.next_seq(),
                source_addr=sub.destination,
                destination_addr=sub.source,
                esm_class=0x04,
                data_coding=0,
                short_message=text,
                receipted_message_id=sub.message_id,
                message_state=states.get(status, 2),
            )
        )

    def mo(self, source: str, destination: str, text: str) -> None:
        gsm = all(ord(c) < 128 for c in text)
        self.send(
            make(
                "deliver_sm",
                self.next_seq(),
                source_addr=source,
                destination_addr=destination,
                esm_class=0,
                data_coding=0 if gsm else 8,
                short_message=text.encode("ascii" if gsm else "utf-16-be"),
            )
        )


def _s(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v or "")


class SMSC:
    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(5)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.sessions: list[_Session] = []
        self.submitted: list[Submitted] = []
        self.receipt_status = "DELIVRD"
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self._stop:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            _Session(self, conn).start()

    def wait_bound(self, timeout=30.0) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if self.sessions:
                    return True
            time.sleep(0.1)
        return False

    def mo(self, source: str, destination: str, text: str) -> None:
        with self.lock:
            sessions = list(self.sessions)
        for s in sessions:
            s.mo(source, destination, text)
            return
        raise RuntimeError("no SMPP session bound to the SMSC")

    def close(self):
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            for s in self.sessions:
                s.alive = False
                try:
                    s.conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
