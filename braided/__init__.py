"""The braided program: one command (`braided`) that runs the three services,
their screening workers and, unless configured elsewhere, embedded PostgreSQL and
NATS. Each service offers the program what it needs in its `service.py`."""
