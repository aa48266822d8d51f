"""The lifecycle test factories write rows the gateway's own requests can see."""

from tests.gateway.factories import make_inspection


async def test_factory_rows_are_visible_to_the_gateway(gateway, db_session):
    inspection = await make_inspection(db_session, status="fieldwork")
    assert inspection.version == 1
    response = await gateway.get(f"/api/v1/units/{inspection.unit_id}")
    assert response.status_code == 200
    assert response.json()["type"] == "pdu"
