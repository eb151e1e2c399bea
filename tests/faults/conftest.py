"""Fixtures of the fault tests: a cluster on a PostgreSQL server of their own.

The fault tests stop and restart PostgreSQL, so they do not use the suite's
server (tests/conftest.py pg_server), whose other users would lose their
connections: they start one more on loopback, for this package only.
"""
from __future__ import annotations

import os

import pytest

from tests.cluster import running_cluster
from tests.pg import running_postgres
from tests.redis_server import require_redis

BACKENDS = os.environ.get("HUB_TEST_BACKENDS", "sqlite,postgresql").split(",")
needs_cluster = pytest.mark.skipif("postgresql" not in BACKENDS,
                                   reason="the fault cluster runs on PostgreSQL (HUB_TEST_BACKENDS)")


@pytest.fixture(scope="module")
def faults_pg():
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def cluster(faults_pg, tmp_path_factory):
    require_redis()
    with running_cluster(faults_pg, tmp_path_factory.mktemp("faults"), database="hub_faults") as running:
        running.pg = faults_pg
        yield running
