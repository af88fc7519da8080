"""Deployment test helpers: the document storage as an S3 bucket (moto, in process), listed key by key."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

BUCKET = "segurtrack-test"
S3_OPTIONS = {"bucket_name": BUCKET, "region_name": "us-east-1", "access_key": "testing", "secret_key": "testing",
              "file_overwrite": False, "default_acl": None, "max_memory_size": 1024}


class Bucket:
    """The bucket the storage writes to, read with boto3 directly (not through the storage under test)."""

    def __init__(self, client):
        self.client = client

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=BUCKET)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


@pytest.fixture
def s3(settings, monkeypatch):
    """Every file of the test goes to an S3 bucket (moto), as with STORAGE_BACKEND=s3."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_S3_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="testing",
                              aws_secret_access_key="testing")
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {**settings.STORAGES, "default": {
            "BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": dict(S3_OPTIONS)}}
        yield Bucket(client)
