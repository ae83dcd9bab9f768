"""The network directory end to end: kept by intake, copied by every other service from its
events, contact details shown only to whom they concern."""
from parcours_testing import wait_for

COPIES = ("diagnostic", "programmes", "reporting")


def test_a_partner_registered_at_the_single_window_is_known_to_every_service(network):
    keeper = network.intake.as_caller("cci-france", ["admin"], person="p-directory-keeper")
    registered = keeper.post("/partners", {
        "id": "medicen", "name": "Medicen Paris Region", "kind": "competitiveness_cluster",
        "regions": ["11"]})
    assert registered.status_code == 201, registered.text
    person = keeper.post("/partners/medicen/people", {
        "id": "p-louise-petit", "region_code": "11", "role": "referrer", "name": "Louise Petit",
        "email": "louise.petit@medicen.org"})
    assert person.status_code == 201 and person.json()["email"] == "louise.petit@medicen.org"

    for name in COPIES:
        client = getattr(network, name)
        wait_for(lambda: client.get("/partners").json()["partners"] == [{
            "id": "medicen", "name": "Medicen Paris Region", "kind": "competitiveness_cluster",
            "regions": ["11"]}], what="{}'s copy of the directory".format(name))

    # the person's own partner sees how to reach them; another partner sees who they are
    own = network.intake.as_caller("medicen", ["reader"]).get("/people/p-louise-petit").json()
    other = network.intake.as_caller("business-france", ["reader"]).get(
        "/people/p-louise-petit").json()
    assert own["email"] == "louise.petit@medicen.org"
    assert "email" not in other and "name" not in other and other["role"] == "referrer"


def test_only_the_directory_keepers_change_it(network):
    advisor = network.intake.as_caller("cci-paris-idf", ["advisor"])
    refused = advisor.post("/partners", {"id": "x", "name": "X", "kind": "large_group",
                                         "regions": ["11"]})
    assert refused.status_code == 403 and refused.json()["needed_roles"] == ["admin"]


def test_the_tokens_of_someone_who_left_are_refused_everywhere(network):
    keeper = network.intake.as_caller("cci-france", ["admin"])
    assert keeper.post("/partners", {"id": "pacte-pme", "name": "Pacte PME",
                                     "kind": "large_group_association",
                                     "regions": ["11"]}).status_code == 201
    assert keeper.post("/partners/pacte-pme/people", {
        "id": "p-leaving", "region_code": "11", "role": "programme_manager",
        "name": "Jean Départ", "email": "jean.depart@pacte-pme.example"}).status_code == 201
    leaving = {name: getattr(network, name).as_caller("pacte-pme", ["reader"],
                                                      person="p-leaving")
               for name in ("intake",) + COPIES}
    assert leaving["programmes"].get("/programmes").status_code == 200

    assert keeper.post("/people/p-leaving/leave").status_code == 200
    refused = leaving["intake"].get("/partners")
    assert refused.status_code == 401 and "p-leaving has left pacte-pme" in refused.text
    for name in COPIES:  # once the departure has reached the service's copy
        wait_for(lambda: leaving[name].get("/partners").status_code == 401,
                 what="{} to refuse p-leaving's token".format(name))
    # the partner's system, and its other people, keep working
    assert network.programmes.as_caller("pacte-pme", ["reader"]).get(
        "/programmes").status_code == 200
