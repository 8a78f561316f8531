from tests.api.cases import make_case


def test_smoke(api_surgeon_a, site_a, site_b):
    case = make_case(site_a)
    make_case(site_b)
    for url in [
        "patients",
        "fractures",
        "procedures",
        "treated-levels",
        "visits",
        "radiographs",
        "adverse-events",
    ]:
        r = api_surgeon_a.get(f"/api/v1/{url}/")
        print(url, r.status_code, r.json() if r.status_code != 200 else r.json()["results"][:1])
    r = api_surgeon_a.get(f"/api/v1/procedures/{case.procedure.pk}/")
    print(r.status_code, r.headers.get("ETag"), r.json())
