"""The id lists of SPEC section 5 and the enumerations of section 2.

They are part of the API contract, not legal facts, so they live in code: the
request models, the OpenAPI document and `GET /v1/vocabulary` all read them here.
"""

from __future__ import annotations

from engine.regime import REGIMES

ORDINARY_CATEGORIES = (
    "identification",
    "contact",
    "national_id",
    "financial",
    "employment",
    "education",
    "location",
    "online_identifiers",
    "behavioural",
    "communications",
    "images",
    "credit_information",
    "other",
)
SPECIAL_CATEGORIES = (
    "racial_or_ethnic_origin",
    "political_opinions",
    "religious_or_philosophical_beliefs",
    "trade_union_membership",
    "genetic",
    "biometric",
    "health",
    "sex_life_or_orientation",
)
CRIMINAL_CATEGORIES = ("criminal_offences",)
CATEGORIES = ORDINARY_CATEGORIES + SPECIAL_CATEGORIES + CRIMINAL_CATEGORIES

SUBJECTS = (
    "customers",
    "employees",
    "citizens",
    "patients",
    "students",
    "children",
    "website_visitors",
    "suppliers",
    "other",
)

#: purposes that some adequacy decision excludes (SPEC section 5)
PURPOSES = (
    "immigration_control",
    "journalism",
    "academic_research",
    "religious_activity",
    "political_activity",
    "law_enforcement",
    "national_security",
)

#: supplementary measures of EDPB Recommendations 01/2020; how effective each is, is data
#: (adequacy_data/instruments.yaml `supplementary_measures`)
SUPPLEMENTARY_MEASURES = (
    "encryption_keys_in_eea",
    "pseudonymisation",
    "end_to_end_encryption",
    "split_processing",
    "protected_recipient",
    "transport_encryption",
    "provider_encryption_at_rest",
    "contractual",
    "organisational",
)

#: how a recipient reaches the data at a place (SPEC section 2, Location)
ACCESS = ("full", "own_staff", "transit")

ART_28_3_CLAUSES = (
    "processing_details",
    "documented_instructions",
    "confidentiality",
    "security_measures",
    "sub_processor_terms",
    "data_subject_rights_assistance",
    "compliance_assistance",
    "return_or_deletion",
    "audit_and_information",
)
EXTENDED_CLAUSES = (
    "retention_period",
    "breach_notification_procedure",
    "processing_locations",
    "change_notification",
    "logging_and_auditing",
    "certification",
    "security_testing",
    "privacy_by_design",
    "records_of_processing",
    "liability_and_insurance",
    "location_consent",
    "third_party_disclosure",
)
CLAUSES = ART_28_3_CLAUSES + EXTENDED_CLAUSES

CONDITION_CODES = (
    "dpa.conclude",
    "dpa.add_clauses",
    "joint.arrangement",
    "subprocessor.obtain_authorisation",
    "subprocessor.obtain_specific_authorisation",
    "subprocessor.inform_controller",
    "subprocessor.authorisation_in_writing",
    "subprocessor.flow_down",
    "disclosure.obtain_instruction",
    "location.obtain_written_consent",
    "transfer.sign_scc",
    "transfer.assess_impact",
    "transfer.apply_supplementary_measures",
    "transfer.inform_supervisory_authority",
    "transfer.inform_data_subjects",
    "processing.assess_third_country_access",
    "scope.assess_local_export_rules",
    "transfer.sign_idta",
    "transfer.assess_risk",
    "transfer.identify_sensitive_data",
)
DENIAL_CODES = (
    "subprocessor.authorisation_refused",
    "subprocessor.controller_objected",
    "transfer.no_effective_measures",
    "policy.location_outside_eea",
    "policy.sensitive_data_outside_eea",
)
CUSTOM_CODE_PREFIX = "policy."
#: message parameters the engine derives from another parameter (`decision_title` from `decision`)
DERIVED_PARAMS = {"decision_title": "decision", "instrument_title": "instrument"}

#: the grounds of GDPR Art. 49 (and UK GDPR Art. 49), each with a record in instruments.yaml
GDPR_DEROGATIONS = (
    "explicit_consent",
    "contract_with_subject",
    "contract_in_subject_interest",
    "public_interest",
    "legal_claims",
    "vital_interests",
    "public_register",
    "compelling_legitimate_interests",
)
#: every ground a request may state: the GDPR's, and under the Swiss regime only data the data
#: subject made generally accessible (FADP Art. 17(1)(e); SPEC section 2). A ground the hop's
#: regime does not know carries nothing (a note)
DEROGATIONS = (*GDPR_DEROGATIONS, "made_public_by_subject")
CERTIFICATIONS = (
    "eu-us-dpf",
    "eu-us-dpf-hr",
    "eu-us-privacy-shield",
    "uk-us-data-bridge",
    "uk-us-data-bridge-hr",
    "swiss-us-dpf",
)
#: kinds of certification framework an adequacy decision for certified organisations uses
CERTIFICATION_FRAMEWORKS = ("dpf", "privacy_shield", "safe_harbour")
ROLES = ("processor", "controller", "joint_controller", "same_entity")
EXPORTER_ROLES = ("controller", "processor")
SECTORS = ("commercial", "non_profit", "public")
CLOUD_PROVIDERS = ("aws", "azure", "gcp", "oci", "hetzner", "scaleway", "ionos", "ovhcloud")
SCC_DECISIONS = ("2021/914", "2010/87/EU", "2001/497/EC", "2004/915/EC")
TIA_OUTCOMES = ("no_problematic_law", "measures_required", "no_effective_measures", "not_disclosed")
BCR_KINDS = ("controller", "processor")
ZONES = ("eea", "adequate", "adequate_partial", "third_country")
LANGUAGES = ("en", "nl")
EFFECTS = ("allow", "condition", "deny", "note")


def as_dict() -> dict[str, list[str]]:
    """Every id list, as served by `GET /v1/vocabulary`."""
    return {
        "categories": list(CATEGORIES),
        "special_categories": list(SPECIAL_CATEGORIES),
        "criminal_categories": list(CRIMINAL_CATEGORIES),
        "subjects": list(SUBJECTS),
        "purposes": list(PURPOSES),
        "supplementary_measures": list(SUPPLEMENTARY_MEASURES),
        "access": list(ACCESS),
        "dpa_clauses": list(CLAUSES),
        "dpa_clauses_art_28_3": list(ART_28_3_CLAUSES),
        "dpa_clauses_extended": list(EXTENDED_CLAUSES),
        "condition_codes": list(CONDITION_CODES),
        "denial_codes": list(DENIAL_CODES),
        "derogations": list(DEROGATIONS),
        "certifications": list(CERTIFICATIONS),
        "roles": list(ROLES),
        "sectors": list(SECTORS),
        "cloud_providers": list(CLOUD_PROVIDERS),
        "scc_decisions": list(SCC_DECISIONS),
        "tia_outcomes": list(TIA_OUTCOMES),
        "zones": list(ZONES),
        "regimes": list(REGIMES),
        "languages": list(LANGUAGES),
    }
