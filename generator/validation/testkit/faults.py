"""A fault-injecting serial line: a TCP endpoint for `socket://` URLs that forwards to a device socket
and drops, flips, duplicates and inserts bytes at configured rates (seeded, so failures replay)."""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class FaultConfig:
    drop: float = 0.0  # per byte probabilities
    flip: float = 0.0  # one random bit inverted
    dup: float = 0.0
    insert: float = 0.0  # a random byte inserted before this one
    seed: int = 0


@dataclass
class FaultStats:
    bytes: int = 0
    dropped: int = 0
    flipped: int = 0
    duplicated: int = 0
    inserted: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def faults(self) -> int:
        return self.dropped + self.flipped + self.duplicated + self.inserted


def corrupt(data: bytes, cfg: FaultConfig, rng: random.Random, stats: FaultStats) -> bytes:
    out = bytearray()
    for b in data:
        stats.bytes += 1
        r = rng.random()
        if r < cfg.insert:
            out.append(rng.randrange(256))
            stats.inserted += 1
        r = rng.random()
        if r < cfg.drop:
            stats.dropped += 1
            continue
        if r < cfg.drop + cfg.flip:
            b ^= 1 << rng.randrange(8)
            stats.flipped += 1
        out.append(b)
        if rng.random() < cfg.dup:
            out.append(b)
            stats.duplicated += 1
    return bytes(out)


class Shim:
    """`with Shim(device_sock, FaultConfig(...)) as url:` — the host connects to `url`.

    Both directions are corrupted with independent RNG streams. A FaultConfig() of zeros forwards
    the bytes unchanged, which is how a socket-attached device is offered as a `socket://` URL.
    """

    def __init__(self, device: socket.socket, config: FaultConfig | None = None) -> None:
        self.device, self.config = device, config or FaultConfig()
        self.stats = {"to_device": FaultStats(), "to_host": FaultStats()}
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._host: socket.socket | None = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> str:
        port = self._listener.getsockname()[1]
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return f"socket://127.0.0.1:{port}"

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                host, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._host = host
            seed = self.config.seed
            for src, dst, key, s in ((host, self.device, "to_device", seed), (self.device, host, "to_host", seed + 1)):
                t = threading.Thread(target=self._pump, args=(src, dst, key, random.Random(s)), daemon=True)
                t.start()
                self._threads.append(t)
            return

    def _pump(self, src: socket.socket, dst: socket.socket, key: str, rng: random.Random) -> None:
        src.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data = src.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                dst.sendall(corrupt(data, self.config, rng, self.stats[key]))
            except OSError:
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for s in (self._listener, self._host):
            if s is not None:
                s.close()
        for t in self._threads:
            t.join(timeout=2)
