"""Case data kept safe at rest: case references encrypted wherever they are stored, a blind index to find
and tell them apart, key rotation, and the retention purge.

- `keys`: where the keys come from (the environment, or files it names; generated once under ./var/ on a
  development machine) and the refusal to start without them in production.
- `sealing`: the encryption (Fernet through MultiFernet, newest key first), the blind index (HMAC-SHA256
  with a key of its own) and the column types that seal and open values as rows are written and read.
- `rotation`: re-encrypting everything under the newest key, a batch at a time (`gateway.cli
  rotate-case-key`).

The purge of case data past retention is `gateway.retention`, above the domains whose rows it removes.
"""
