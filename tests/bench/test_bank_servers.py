"""The local bank servers speak the documented shapes themselves (asked here with plain httpx, as
any client would): tokens and their expiry, 401 and 404 bodies, the rate-limit headers and 429s,
date filters, and the `api` shape's paging."""

from __future__ import annotations

import httpx

from bench.bank_servers import ApiAccount, FakeAccount, FakeApi, FakeGoCardless


async def test_the_gocardless_server_answers_in_the_documented_shapes() -> None:
    async with FakeGoCardless(account_success_limit=2, account_success_reset=600) as bank:
        bank.accounts["acc"] = FakeAccount(
            booked=[
                {
                    "transactionId": "t1",
                    "bookingDate": "2024-01-02",
                    "transactionAmount": {"amount": "-1.00", "currency": "EUR"},
                }
            ],
            pending=[
                {"valueDate": "2024-01-09", "transactionAmount": {"amount": "-2.00", "currency": "EUR"}}
            ],
        )
        async with httpx.AsyncClient(base_url=bank.base_url) as http:
            refused = await http.post("/api/v2/token/new/", json={"secret_id": "x", "secret_key": "y"})
            assert refused.status_code == 401 and refused.json()["status_code"] == 401
            tokens = (
                await http.post(
                    "/api/v2/token/new/", json={"secret_id": bank.secret_id, "secret_key": bank.secret_key}
                )
            ).json()
            assert set(tokens) == {"access", "access_expires", "refresh", "refresh_expires"}
            auth = {"Authorization": f"Bearer {tokens['access']}"}
            first = await http.get(
                "/api/v2/accounts/acc/transactions/",
                params={"date_from": "2024-01-01", "date_to": "2024-01-05"},
                headers=auth,
            )
            assert first.json() == {
                "transactions": {"booked": [bank.accounts["acc"].booked[0]], "pending": []}
            }
            assert first.headers["HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_REMAINING"] == "1"
            await http.get("/api/v2/accounts/acc/transactions/", headers=auth)
            third = await http.get("/api/v2/accounts/acc/transactions/", headers=auth)
            assert third.status_code == 429
            assert (
                third.headers["HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_REMAINING"],
                third.headers["HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_RESET"],
            ) == ("0", "600")
            assert (await http.get("/api/v2/accounts/nope/", headers=auth)).status_code == 404
            bank.expire_access_tokens()
            assert (await http.get("/api/v2/accounts/acc/", headers=auth)).status_code == 401
            renewed = (await http.post("/api/v2/token/refresh/", json={"refresh": tokens["refresh"]})).json()
            assert set(renewed) == {"access", "access_expires"}


async def test_the_api_server_pages_its_transactions() -> None:
    async with FakeApi(page_size=1) as api:
        api.accounts["a"] = ApiAccount(
            transactions=[
                {"id": "1", "bookingDate": "2024-01-01", "amount": "1"},
                {"id": "2", "bookingDate": "2024-01-02", "amount": "2"},
            ]
        )
        async with httpx.AsyncClient(base_url=api.base_url) as http:
            page = (await http.get("/accounts/a/transactions")).json()
            assert ([t["id"] for t in page["transactions"]], page["next"]) == (["1"], "1")
            page = (await http.get("/accounts/a/transactions", params={"cursor": page["next"]})).json()
            assert ([t["id"] for t in page["transactions"]], page["next"]) == (["2"], None)
