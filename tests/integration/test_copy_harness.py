"""Smoke test of the harness itself (SDK only; no product code)."""

from helpers import blob_names


def test_azurite_fixture_serves_both_accounts(azurite, blob_service, container, container_client):
    container_client.upload_blob("dir/x.txt", b"hello")
    assert blob_names(container_client) == {"dir/x.txt"}
    assert container_client.download_blob("dir/x.txt").readall() == b"hello"
    assert azurite.blob_endpoint.endswith("/devstoreaccount1")
    assert f"BlobEndpoint={azurite.blob_endpoint}" in azurite.connection_string

    from azure.storage.blob import BlobServiceClient

    other = BlobServiceClient.from_connection_string(azurite.acct2_connection_string)
    name = container + "x"
    other.create_container(name)
    try:
        assert name in {c.name for c in other.list_containers()}
        assert name not in {c.name for c in blob_service.list_containers()}
    finally:
        other.delete_container(name)
        other.close()
