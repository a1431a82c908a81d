"""Elasticsearch: templates, aliases, bulk writes, state, search, reindex, retention.

Every function takes the client and the index prefix as arguments: no module keeps
a client, so Airflow workers and the CLI pass their own.
"""
