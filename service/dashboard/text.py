"""The dashboard's words in English and Dutch, one entry per key: (en, nl).

Dutch follows the AVG's own terms and the Autoriteit Persoonsgegevens' usage
(`../shared/reference/nl-terms.md`): verwerker, subverwerker, doorgifte, register van
verwerkingsactiviteiten. Codes of conditions and denials are not translated here: their
titles come from the rule base's message catalogue in the page's language.
"""

from __future__ import annotations

LANGUAGES = ("en", "nl")

TEXT: dict[str, tuple[str, str]] = {
    "skip": ("Skip to content", "Naar de inhoud"),
    "nav": ("Dashboard", "Dashboard"),
    "overview": ("Overview", "Overzicht"),
    "vendors": ("Vendors", "Leveranciers"),
    "register": ("Transfer register", "Register van doorgiften"),
    "scenarios": ("Scenarios", "Scenario's"),
    "decision": ("Decision", "Besluit"),
    "other_language": ("Nederlands", "English"),
    "sign_in": ("Sign in", "Inloggen"),
    "sign_out": ("Sign out", "Uitloggen"),
    "signed_in_as": ("Signed in as", "Ingelogd als"),
    "token": ("Access token", "Toegangstoken"),
    "token_help": (
        "Paste a token from the service's tokens file; the browser keeps a session, not the token.",
        "Plak een token uit het tokenbestand van de dienst; de browser bewaart een sessie, niet het token.",
    ),
    "token_wrong": ("This token is not valid.", "Dit token is niet geldig."),
    "allow": ("allow", "toegestaan"),
    "conditions": ("conditions", "voorwaarden"),
    "deny": ("deny", "geweigerd"),
    "policy": ("Policy", "Beleid"),
    "all_policies": ("all policies", "alle beleidsprofielen"),
    "show": ("Show", "Toon"),
    "vendors_by_decision": ("Vendors by decision", "Leveranciers per besluit"),
    "transfers_by_decision": (
        "Other transfers by decision (by reference)",
        "Overige doorgiften per besluit (per referentie)",
    ),
    "latest_per_vendor": (
        "The latest logged decision per vendor and policy.",
        "Het laatst vastgelegde besluit per leverancier en beleidsprofiel.",
    ),
    "no_vendor_decisions": (
        "No vendor decisions are logged yet. Import the vendors and decide by vendor id (see the README).",
        "Er zijn nog geen besluiten over leveranciers vastgelegd. Importeer de leveranciers en vraag een "
        "besluit per leverancier (zie de README).",
    ),
    "decisions_over_time": ("Decisions over time", "Besluiten in de tijd"),
    "decisions_per_day": (
        "Decisions per day, last {n} days, by outcome",
        "Besluiten per dag, laatste {n} dagen, per uitkomst",
    ),
    "chart_as_table": ("The chart as a table", "De grafiek als tabel"),
    "day": ("Day", "Dag"),
    "total": ("Total", "Totaal"),
    "open_actions": ("Open actions by actor", "Openstaande acties per actor"),
    "actor": ("Actor", "Actor"),
    "role": ("Role", "Rol"),
    "actions": ("Actions", "Acties"),
    "concerns": ("Concerns", "Betreft"),
    "no_actions": ("No open actions.", "Geen openstaande acties."),
    "unnamed_controller": ("the controller (not named)", "de verwerkingsverantwoordelijke (niet genoemd)"),
    "coming_changes": ("Coming changes", "Komende wijzigingen"),
    "coming_help": (
        "Dates on which a latest decision will be decided otherwise, from the reference data's "
        "dated records.",
        "Data waarop een laatste besluit anders uitvalt, volgens de gedateerde brongegevens.",
    ),
    "no_changes": ("No change is dated within ten years.", "Binnen tien jaar is geen wijziging gedateerd."),
    "changes_on": ("Changes on", "Wijzigt op"),
    "subject": ("Vendor or reference", "Leverancier of referentie"),
    "now": ("Now", "Nu"),
    "name": ("Name", "Naam"),
    "list_version": ("List version", "Versie van de lijst"),
    "revision": ("Revision", "Revisie"),
    "updated": ("Updated", "Bijgewerkt"),
    "latest_decisions": ("Latest decisions", "Laatste besluiten"),
    "objection_by": ("Object by", "Bezwaar uiterlijk"),
    "no_vendors": ("No vendors are stored yet.", "Er zijn nog geen leveranciers opgeslagen."),
    "not_decided": ("not decided yet", "nog geen besluit"),
    "chain": ("Processing chain", "Verwerkingsketen"),
    "chain_help": (
        "Each party with its verdict in the latest logged decision under {policy} ({decided_at}).",
        "Elke partij met het oordeel in het laatst vastgelegde besluit onder {policy} ({decided_at}).",
    ),
    "chain_undecided": (
        "The chain as the vendor documents it; no decision is logged for this vendor yet.",
        "De keten zoals de leverancier die beschrijft; er is nog geen besluit over deze leverancier "
        "vastgelegd.",
    ),
    "revisions": ("Revisions and their reviews", "Revisies en hun beoordeling"),
    "revisions_help": (
        "A new revision is a change of sub-processors (GDPR Art. 28(2)): it is reviewed for the exporter, "
        "policy and data of the latest logged decision; the objection period starts on the revision's date.",
        "Een nieuwe revisie is een wijziging van subverwerkers (AVG art. 28 lid 2): die wordt beoordeeld "
        "voor de exporteur, het beleid en de gegevens van het laatst vastgelegde besluit; de bezwaartermijn "
        "begint op de datum van de revisie.",
    ),
    "stored_at": ("Stored", "Opgeslagen"),
    "stored_by": ("Stored by", "Opgeslagen door"),
    "changes": ("Changes", "Wijzigingen"),
    "review": ("Review", "Beoordeling"),
    "first_revision": ("first revision", "eerste revisie"),
    "no_notice_days": ("no objection period in the document", "geen bezwaartermijn in het document"),
    "days_left": ("{n} days left", "nog {n} dagen"),
    "deadline_passed": ("passed", "verstreken"),
    "verdict_object": ("object", "bezwaar maken"),
    "verdict_accept_with_conditions": ("accept with conditions", "accepteren met voorwaarden"),
    "verdict_accept": ("accept", "accepteren"),
    "added": ("added", "toegevoegd"),
    "removed": ("removed", "verwijderd"),
    "locations_changed": ("locations changed", "locaties gewijzigd"),
    "terms_changed": ("terms changed", "voorwaarden gewijzigd"),
    "sources": ("Sources", "Bronnen"),
    "as_of": ("As of", "Peildatum"),
    "download_csv": ("Download as CSV", "Download als CSV"),
    "register_help": (
        "One row per transfer (party and location) of the latest logged decision per vendor, else per "
        "reference: the record of transfers of GDPR Art. 30(1)(e) and 30(2)(c).",
        "Eén regel per doorgifte (partij en locatie) uit het laatst vastgelegde besluit per leverancier, "
        "anders per referentie: de vastlegging van doorgiften van AVG art. 30 lid 1 onder e en lid 2 "
        "onder c.",
    ),
    "no_rows": (
        "No transfers are logged for this selection.",
        "Voor deze selectie zijn geen doorgiften vastgelegd.",
    ),
    "exporter": ("Exporter", "Exporteur"),
    "path": ("Path", "Pad"),
    "recipient": ("Recipient", "Ontvanger"),
    "country": ("Country", "Land"),
    "zone": ("Zone", "Zone"),
    "mechanism": ("Transfer tool", "Doorgifte-instrument"),
    "assessment": ("Assessment", "Beoordeling"),
    "decided_at": ("Decided at", "Besloten op"),
    "findings": ("Findings", "Bevindingen"),
    "hops": ("Hops", "Schakels"),
    "location": ("Location", "Locatie"),
    "code": ("Code", "Code"),
    "basis": ("Basis in law", "Wettelijke grondslag"),
    "message": ("Message", "Toelichting"),
    "party": ("Party", "Partij"),
    "assumptions": ("Assumptions", "Aannames"),
    "logged_language": (
        "Messages are shown as they were answered and logged.",
        "Toelichtingen staan zoals ze zijn beantwoord en vastgelegd.",
    ),
    "horizon": ("Horizon", "Horizon"),
    "horizon_text": ("Decided otherwise from {date}: {decision}.", "Vanaf {date} anders: {decision}."),
    "policy_version": ("Policy version", "Versie van het beleid"),
    "reference_data": ("Reference data", "Brongegevens"),
    "request": ("Request as logged", "Verzoek zoals vastgelegd"),
    "scenarios_help": (
        "What changes if the law changes? Pick or write a scenario; a replay decides every logged request "
        "again under it, and lists the decisions that flip. The decision log itself is never changed.",
        "Wat verandert er als het recht verandert? Kies of schrijf een scenario; een herhaling beslist elk "
        "vastgelegd verzoek opnieuw en toont de besluiten die omslaan. Het besluitenlogboek zelf blijft "
        "ongewijzigd.",
    ),
    "shipped_scenario": ("Scenario", "Scenario"),
    "own_scenario": ("Or write your own (JSON)", "Of schrijf er zelf een (JSON)"),
    "own_scenario_help": (
        'For example {"title": "...", "adequacy_end": [{"decision": "us-dpf-2023-1795", '
        '"on": "2027-03-01"}]}',
        'Bijvoorbeeld {"title": "...", "adequacy_end": [{"decision": "us-dpf-2023-1795", '
        '"on": "2027-03-01"}]}',
    ),
    "none_chosen": ("(write my own)", "(zelf schrijven)"),
    "replay_as_of": ("Decide at", "Beslissen op"),
    "replay_as_of_help": (
        "Empty: each request at its own logged date.",
        "Leeg: elk verzoek op de eigen vastgelegde datum.",
    ),
    "run_replay": ("Run the replay", "Herhaling starten"),
    "replay_needs_scope": (
        "Running a replay needs a token with the scope replay.",
        "Een herhaling starten vraagt een token met de scope replay.",
    ),
    "recent_replays": ("Recent replays", "Recente herhalingen"),
    "no_replays": ("No replay has run yet.", "Er is nog geen herhaling uitgevoerd."),
    "state": ("State", "Status"),
    "state_queued": ("queued", "in de wachtrij"),
    "state_running": ("running", "bezig"),
    "state_done": ("done", "klaar"),
    "state_failed": ("failed", "mislukt"),
    "progress": ("Progress", "Voortgang"),
    "replay": ("Replay", "Herhaling"),
    "replay_refresh": (
        "This page reloads every few seconds until the replay is done.",
        "Deze pagina ververst elke paar seconden tot de herhaling klaar is.",
    ),
    "summary": ("Summary", "Samenvatting"),
    "decided": ("decided", "beslist"),
    "unchanged": ("unchanged", "ongewijzigd"),
    "changed": ("changed", "gewijzigd"),
    "flips": ("What flips", "Wat omslaat"),
    "no_flips": ("No logged decision changes.", "Geen vastgelegd besluit verandert."),
    "before": ("Before", "Voor"),
    "after": ("After", "Na"),
    "codes_added": ("Codes added", "Codes erbij"),
    "codes_removed": ("Codes removed", "Codes eraf"),
    "problem": ("Problem", "Probleem"),
    "problems_in_form": ("The scenario cannot be run:", "Het scenario kan niet worden uitgevoerd:"),
    "error_title": ("This page cannot be shown", "Deze pagina kan niet worden getoond"),
    "back_to_overview": ("Back to the overview", "Terug naar het overzicht"),
    "more_rows": ("{n} more rows: download the CSV for all.", "Nog {n} regels: download de CSV voor alles."),
    "footer": (
        "doorgifte: decisions on transfers of personal data, with the law cited.",
        "doorgifte: besluiten over doorgiften van persoonsgegevens, met de wet erbij.",
    ),
    "role_processor": ("processor", "verwerker"),
    "regime": ("Law", "Recht"),
    "regime_gdpr": ("GDPR", "AVG"),
    "regime_uk_gdpr": ("UK GDPR", "UK GDPR"),
    "regime_ch_fadp": ("Swiss FADP", "Zwitserse DSG (nFADP)"),
    "regime_none": ("none of the modelled laws", "AVG niet van toepassing"),
    "role_controller": ("controller", "verwerkingsverantwoordelijke"),
    "role_joint_controller": ("joint controller", "gezamenlijke verwerkingsverantwoordelijke"),
    "role_same_entity": ("own staff or branch", "eigen medewerkers of vestiging"),
    "zone_eea": ("within the EEA", "binnen de EER"),
    "zone_adequate": ("adequacy decision", "adequaatheidsbesluit"),
    "zone_adequate_partial": ("partial adequacy decision", "adequaatheidsbesluit voor een deel"),
    "zone_third_country": ("third country", "derde land"),
    "mechanism_adequacy": ("adequacy decision", "adequaatheidsbesluit"),
    "mechanism_scc": ("standard contractual clauses", "standaardcontractbepalingen (SCC's)"),
    "mechanism_bcr": ("binding corporate rules", "bindende bedrijfsvoorschriften (BCR)"),
    "mechanism_instrument": (
        "the regime's own clauses (IDTA, UK Addendum)",
        "eigen instrument van het regime (IDTA, UK Addendum)",
    ),
    "mechanism_ad_hoc_clauses": ("authorised ad hoc clauses", "contractbepalingen met toestemming van de AP"),
    "mechanism_code_of_conduct": ("approved code of conduct", "goedgekeurde gedragscode"),
    "mechanism_certification": ("approved certification", "goedgekeurd certificeringsmechanisme"),
    "mechanism_public_instrument": (
        "instrument between public bodies",
        "juridisch bindend instrument tussen overheidsinstanties",
    ),
    "mechanism_administrative_arrangement": (
        "administrative arrangement",
        "administratieve regeling tussen overheidsinstanties",
    ),
    "mechanism_derogation": ("derogation (Art. 49)", "afwijking (art. 49)"),
    "mechanism_none": ("none yet", "nog geen"),
    "assessment_no_effective_measures": ("no effective measures", "geen doeltreffende maatregelen"),
    "assessment_needed": ("impact assessment needed", "DTIA nodig"),
    "assessment_risk_assessment_needed": (
        "UK transfer risk assessment needed",
        "transfer risk assessment (UK) nodig",
    ),
    "assessment_measures_needed": ("supplementary measures needed", "aanvullende maatregelen nodig"),
    "assessment_done": ("done", "uitgevoerd"),
    "assessment_not_needed": ("not needed", "niet nodig"),
    "none": ("none", "geen"),
    "yes": ("yes", "ja"),
    "no": ("no", "nee"),
}


class Words:
    """`t.key` or `t("key", n=3)` in a template: the text in the page's language."""

    def __init__(self, lang: str):
        self.index = LANGUAGES.index(lang)

    def __getattr__(self, key: str) -> str:
        if key.startswith("_") or key.startswith("jinja_"):  # Python's and Jinja's own probes
            raise AttributeError(key)
        if key not in TEXT:  # not AttributeError: Jinja would render that as empty text
            raise LookupError(f"no dashboard text {key!r}")
        return TEXT[key][self.index]

    def __call__(self, key: str, **values: object) -> str:
        return getattr(self, key).format(**values)

    def role_name(self, role: str | None) -> str:
        """A role of the contract in words; an id without words stays as it is."""
        return self.id_name("role", role)

    def zone_name(self, zone: str | None) -> str:
        return self.id_name("zone", zone)

    def regime_name(self, regime: str | None) -> str:
        """A hop's regime in words; two regimes (`uk_gdpr+gdpr`) joined by `+`."""
        return " + ".join(self.id_name("regime", r) for r in (regime or "gdpr").split("+"))

    def id_name(self, kind: str, value: str | None) -> str:
        """A contract id of `kind` (zone, mechanism, assessment) in words; an id without words
        (a newer one) stays as it is."""
        return TEXT.get(f"{kind}_{value}", (value or "",) * 2)[self.index]
