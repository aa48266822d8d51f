"""Events, so that report generators need not poll: the outbox every publication, phase change, rating
run and panel decision is written to in its own transaction (`outbox`), the feed of them
(`GET /api/v1/events`), and webhook subscriptions delivered by a worker inside the gateway (`delivery`),
signed as the Standard Webhooks specification describes (`signing`).

Importing the package registers the outbox with the write path, so whatever imports any of it (the app,
`gateway.models`) writes the events of every change it makes.
"""

from gateway.events import outbox  # noqa: F401  (registers the outbox with the write path)
