"""Dutch throughout (SPEC section 10): places, acts, labels, citations; and the polish of names."""

from __future__ import annotations

import pytest

from engine.localise import dutch_act, dutch_basis
from tests.conftest import TODAY, flow


@pytest.mark.parametrize(
    ("english", "dutch"),
    [
        ("GDPR Art. 46(2)(c)", "art. 46 lid 2 onder c AVG"),
        ("GDPR Art. 28(3)", "art. 28 lid 3 AVG"),
        ("GDPR Art. 44", "art. 44 AVG"),
        ("GDPR Art. 49(1), second subparagraph", "art. 49 lid 1 tweede alinea AVG"),
        ("GDPR Art. 4(7)", "art. 4 punt 7 AVG"),
        ("GDPR Recital 111", "overweging 111 AVG"),
        ("EDPB Guidelines 05/2021", "Richtsnoeren 05/2021 EDPB"),
        ("EDPB Recommendations 01/2020", "Aanbevelingen 01/2020 EDPB"),
        ("CJEU C-311/18 (Schrems II)", "HvJ EU C-311/18 (Schrems II)"),
        ("Commission Implementing Decision (EU) 2021/914", "Uitvoeringsbesluit (EU) 2021/914"),
        ("Implementing Decision (EU) 2021/914 Art. 4(4)", "art. 4 lid 4 Uitvoeringsbesluit (EU) 2021/914"),
        ("EEA Agreement Annex XI", "EER-Overeenkomst, bijlage XI"),
    ],
)
def test_basis_in_the_dutch_citation_form(english, dutch):
    assert dutch_basis(english) == dutch


@pytest.mark.parametrize(
    ("english", "dutch"),
    [
        ("Commission Decision 2000/518/EC", "Beschikking 2000/518/EG"),
        ("Commission Decision 2010/146/EU", "Besluit 2010/146/EU"),
        ("Commission Implementing Decision 2012/484/EU", "Uitvoeringsbesluit 2012/484/EU"),
        (
            "Commission Implementing Decision (EU) 2016/1250 (EU-US Privacy Shield)",
            "Uitvoeringsbesluit (EU) 2016/1250 (EU-VS-privacyschild)",
        ),
        (
            "Commission Implementing Decision (EU) 2025/2574 amending Implementing Decision (EU) 2021/1772",
            "Uitvoeringsbesluit (EU) 2025/2574 tot wijziging van Uitvoeringsbesluit (EU) 2021/1772",
        ),
    ],
)
def test_act_titles_in_dutch(english, dutch):
    assert dutch_act(english) == dutch


@pytest.mark.parametrize(
    ("code", "dutch"),
    [
        ("DE", "Duitsland"),
        ("US", "de Verenigde Staten"),
        ("GB", "het Verenigd Koninkrijk"),
        ("KR", "Zuid-Korea"),
        ("PH", "de Filipijnen"),
    ],
)
def test_country_names_in_dutch(engine, code, dutch):
    assert engine.words.country_nl(code) == dutch


def test_a_dutch_message_reads_dutch_throughout(engine):
    payload = {
        **flow(
            country="US",
            agreement={"dpa": {"signed": True}, "safeguards": {"derogation": {"ground": "explicit_consent"}}},
        ),
        "lang": "nl",
    }
    d = engine.evaluate(payload, TODAY)
    texts = " ".join(f.message for f in d.hops[0].locations[0].findings)
    assert "de Verenigde Staten" in texts and " US" not in texts
    assert "'uitdrukkelijke toestemming'" in texts and "explicit_consent" not in texts
    assert "Uitvoeringsbesluit (EU) 2021/914" in texts
    sign = next(c for c in d.conditions if c.code == "transfer.sign_scc")
    assert "art. 46 lid 2 onder c AVG" in sign.basis and all("GDPR" not in b for b in sign.basis)
    assert sign.params == {"module": 2, "decision": "2021/914"}  # params never change with the language
    assert sign.location == "US"


def test_missing_clauses_read_as_the_avg_words(engine):
    payload = {
        **flow(country="NL", agreement={"dpa": {"signed": True, "clauses": ["confidentiality"]}}),
        "lang": "nl",
    }
    add = next(c for c in engine.evaluate(payload, TODAY).conditions if c.code == "dpa.add_clauses")
    assert "verwerking uitsluitend op schriftelijke instructies" in add.message
    assert "documented_instructions" in add.params["missing"]


def test_exclusion_texts_per_language(engine):
    payload = {**flow(country="KR"), "data": {"categories": ["credit_information"]}, "lang": "nl"}
    d = engine.evaluate(payload, TODAY)
    note = next(f for f in d.hops[0].locations[0].findings if f.code == "transfer.adequacy_exclusion_applies")
    assert "Financial Services Commission" in note.message and "Kredietgegevens" in note.message


def test_dutch_country_names_are_accepted(engine):
    payload = flow(country="Duitsland", locations=["de Verenigde Staten", {"country": "Nederland"}])
    payload["exporter"]["country"] = "Nederland"
    d = engine.evaluate(payload, TODAY)
    assert [loc.location.country for loc in d.hops[0].locations] == ["US", "NL"]


def test_the_controller_is_named_from_the_callers_side(engine):
    payload = {
        "as_of": "2026-11-22",
        "policy": "nl-gov",
        "exporter": {"name": "Gemeente Utrecht", "country": "NL", "public_body": True},
        "recipient": {
            "name": "Zaakwerk BV",
            "role": "processor",
            "country": "DE",
            "agreement": {"dpa": {"signed": True}},
        },
    }
    consent = next(
        c for c in engine.evaluate(payload, TODAY).conditions if c.code == "location.obtain_written_consent"
    )
    assert "Prior written consent of the controller (Gemeente Utrecht) is needed" in consent.message
    dutch = engine.evaluate({**payload, "lang": "nl"}, TODAY)
    consent = next(c for c in dutch.conditions if c.code == "location.obtain_written_consent")
    assert "toestemming van de verwerkingsverantwoordelijke (Gemeente Utrecht) nodig" in consent.message
    assert "in Duitsland" in consent.message


def test_no_double_full_stop_after_a_name_ending_in_one(engine):
    d = engine.evaluate(flow(name="Clumio, Inc.", country="US", agreement={}), TODAY)
    assert all(".." not in c.message for c in d.conditions)
    assert any(
        c.message.endswith("Clumio, Inc. (Art. 28(3)).") or "Clumio, Inc." in c.message for c in d.conditions
    )


def test_location_words_read_as_places(engine):
    d = engine.evaluate(flow(locations=["EEA", "worldwide"]), TODAY)
    texts = [f.message for loc in d.hops[0].locations for f in loc.findings]
    assert any("at an EEA location, inside the EEA" in t for t in texts)
    assert not any("EEA is inside" in t or "at EEA" in t for t in texts)
    assert any("locations worldwide" in t for t in texts)


def test_dates_in_dutch_messages_are_in_words(engine):
    scc = {"module": 2, "decision": "2010/87/EU", "concluded_on": "2021-01-01"}
    payload = {
        **flow(country="IN", agreement={"dpa": {"signed": True}, "safeguards": {"scc": scc}}),
        "lang": "nl",
    }
    payload["as_of"] = "2022-06-01"
    d = engine.evaluate(payload, TODAY)
    note = next(f for f in d.hops[0].locations[0].findings if f.code == "transfer.scc_transitional")
    assert "26 september 2021" in note.message and "27 december 2022" in note.message
    assert note.params["until"] == "2022-12-27"  # params keep the ISO date


def test_reasons_and_bcr_kinds_read_dutch(engine):
    safeguards = {"scc": {"module": 1}, "bcr": {"kind": "processor", "approved": True}}
    payload = {
        **flow(country="IN", agreement={"dpa": {"signed": True}, "safeguards": safeguards}),
        "lang": "nl",
    }
    texts = " ".join(f.message for f in engine.evaluate(payload, TODAY).hops[0].locations[0].findings)
    assert "de module past niet bij de rollen" in texts and "module_mismatch" not in texts
    assert "verwerkers" in texts and "kind_mismatch" not in texts
