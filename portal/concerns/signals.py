"""Signals concerns sends so that higher features can answer or react without concerns importing them
(concerns never imports tasking). Receivers are connected in one place: ``portal.connect_signals``."""
from blinker import Namespace

signals = Namespace()

# send(user, concern=concern) -> each receiver returns True when that user (a partner) may see the concern.
partner_visibility = signals.signal("concern-partner-visibility")
