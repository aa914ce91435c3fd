"""Customers over HTTP: register, read, patch, notes, export, erase."""

from __future__ import annotations

from collections.abc import Mapping

from tests.integration.http.conftest import Api, bearer

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}


async def test_a_customer_lives_and_is_erased(api: Api) -> None:
    _, key = await api.tenant("shop")
    auth = bearer(key)

    created = await api.client.post(
        "/api/v1/customers",
        json={"email": "ada@example.com", "name": "Ada", "addresses": [ADDRESS], "tags": ["vip"]},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    assert (customer["email"], customer["name"], customer["tags"]) == (
        "ada@example.com",
        "Ada",
        ["vip"],
    )
    url = f"/api/v1/customers/{customer['id']}"

    patched = await api.client.patch(url, json={"phone": "+44 20 7946 0000"}, headers=auth)
    assert patched.status_code == 200, patched.text
    assert patched.json()["phone"] == "+44 20 7946 0000"
    assert patched.json()["name"] == "Ada"

    note = await api.client.post(f"{url}/notes", json={"text": "prefers email"}, headers=auth)
    assert note.status_code == 201

    export = (await api.client.get(f"{url}/export", headers=auth)).json()
    assert export["customer"]["email"] == "ada@example.com"
    assert len(export["history"]) >= 3

    assert (await api.client.delete(url, headers=auth)).status_code == 204
    erased = (await api.client.get(url, headers=auth)).json()
    assert (erased["email"], erased["name"], erased["phone"]) == (None, None, None)


async def test_customer_requests_are_validated_and_isolated(api: Api) -> None:
    _, mine = await api.tenant("mine")
    _, theirs = await api.tenant("theirs")
    body: Mapping[str, object] | None
    for body in ({"name": "No email"}, {"email": 5}, {"email": "a@b.co", "unknown": 1}):
        response = await api.client.post("/api/v1/customers", json=body, headers=bearer(mine))
        assert response.status_code == 422, body

    created = await api.client.post(
        "/api/v1/customers", json={"email": "ada@example.com"}, headers=bearer(mine)
    )
    url = f"/api/v1/customers/{created.json()['id']}"
    for method, path, body in (
        ("GET", url, None),
        ("PATCH", url, {"name": "x"}),
        ("POST", f"{url}/notes", {"text": "x"}),
        ("GET", f"{url}/export", None),
        ("DELETE", url, None),
    ):
        response = await api.client.request(method, path, json=body, headers=bearer(theirs))
        assert response.status_code == 404, (method, path)
    assert (await api.client.get(url, headers=bearer(mine))).json()["email"] == "ada@example.com"
