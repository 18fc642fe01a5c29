"""What the cases app tells whoever listens, without knowing who does.

Each signal is sent once the transaction that made the change has committed
(`transaction.on_commit`): listeners see the committed row, and none can undo
or slow down the change itself. Listeners are connected by the top layer
(hub/wiring.py); cases imports none of them.
"""

from django.dispatch import Signal

# A case was closed (核查结案) and the close committed. Sent with sender=Case, case_id=<pk>.
case_closed = Signal()
