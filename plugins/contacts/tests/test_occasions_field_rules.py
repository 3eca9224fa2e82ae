"""A birth date hidden from a role by a field rule is not told by the occasions list
(its birthdays and their "years", the age) nor by a person's occasions panel."""

from contacts_helpers import new_person
from sqlalchemy import select


def hide(dbsession, role_name, field):
    from kyklos.security.models import FieldPermission, Role

    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == role_name)).scalar_one()
        db.add(FieldPermission(role_id=role.id, entity="person", field=field, access="none"))


def test_hidden_birth_date_gives_no_birthdays(api, client, dbsession):
    anna = new_person(api("manager"), first_name="Anna", last_name="Nowak", country="PL",
                      birth_date="1980-05-06", anniversary_date="2010-05-07")
    query = {"date": "2024-05-06", "range": "week"}
    kinds = {i["kind"] for i in api("sales").get("/api/v1/_occasions", query).json["items"]}
    assert {"birthday", "anniversary"} <= kinds  # the rule below is what hides them
    hide(dbsession, "sales", "birth_date")
    items = api("sales").get("/api/v1/_occasions", query).json["items"]
    assert {i["kind"] for i in items} == {"anniversary"}
    assert all("birth_date" not in i["person"] for i in items)
    page = client("sales").get("/contacts/occasions", query)
    assert "(44)" not in page.text and "(14)" in page.text
    detail = client("sales").get(f"/persons/{anna['id']}")
    assert "(44)" not in detail.text
    # another role still sees the birthday
    kinds = {i["kind"] for i in api("manager").get("/api/v1/_occasions", query).json["items"]}
    assert "birthday" in kinds
