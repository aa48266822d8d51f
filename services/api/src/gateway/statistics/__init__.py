"""National and annual statistics across published inspections, for report generators and dashboards:
ratings, pooled key questions and trends by programme year, aggregated by the database over the figures
the write path keeps of each inspection as published (`figures`).

Importing the package registers those figures with the write path, so whatever imports any of it (the
app, `gateway.models`) keeps them as it publishes, corrects or withdraws.
"""

from gateway.statistics import figures  # noqa: F401  (registers the figures with the write path)
