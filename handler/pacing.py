"""A pacer: at most `rate` calls a second on average, in bursts of at most `burst`.

The same token bucket AWS applies to an account's API calls, kept on our side so that the reconciliation
sweep and the redrive tool never take the account's Batch quota from the user's own orchestrator: each
call takes its cost in tokens, waiting (by `sleep`) until the bucket has them. Shared by the sweep
(`handler/reconcile.py`) and the tools; `clock` and `sleep` are parameters so a test or a simulation can
run it in simulated time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Pacer:
    rate: float
    """Tokens added per second (calls a second, on average)."""
    burst: float = 1.0
    """Most tokens the bucket holds (calls sent back to back after a pause)."""
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _tokens: float = field(init=False)
    _at: float = field(init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError(f"a pacer needs rate > 0 and burst >= 1, got rate {self.rate}, burst {self.burst}")
        self._tokens, self._at = self.burst, self.clock()

    def wait(self, cost: float = 1.0) -> float:
        """Take `cost` tokens (at most `burst`), sleeping first if the bucket lacks them; the seconds slept."""
        cost = min(cost, self.burst)
        self._refill()
        waited = 0.0
        if self._tokens < cost:
            waited = (cost - self._tokens) / self.rate
            self.sleep(waited)
            self._refill()
        self._tokens = max(self._tokens - cost, 0.0)
        return waited

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
