"""Signals the public pages send so higher features can take part without public importing them.
Receivers are connected in one place: ``portal.connect_signals``."""
from blinker import Namespace

signals = Namespace()

# send() while computing the public data version: each receiver returns a string that changes whenever
# something its feature shows on the public pages changes (residents' approved comments), so the shared
# bodies are rebuilt.
data_version = signals.signal("public-data-version")
