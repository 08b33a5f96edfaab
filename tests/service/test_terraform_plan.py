"""Places of the resources of a Terraform plan (service/terraform.py, SPEC section 14 `check-plan`).

Fixtures: tests/service/data/plans (README.md there says what each file covers and where the
Checkov plans come from).
"""

from __future__ import annotations

import codecs
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from engine.paths import DATA_DIR
from engine.reference import load_reference
from service.terraform import (
    EU_MEMBER_STATES,
    GCP_DUAL_REGIONS,
    GLOBAL_RULES,
    SKIP_RULES,
    PlanError,
    PlannedResource,
    module_path,
    multi_region_countries,
    planned_resources,
    provider_of,
    read_plan,
    rule_skip,
    tag_skip,
)

PLANS = Path(__file__).parent / "data" / "plans"
#: the shipped reference data: places are read against the judging engine's regions
REFERENCE = load_reference(DATA_DIR)


def load(name: str) -> dict[str, Any]:
    return read_plan((PLANS / name).read_bytes())


def by_address(name: str) -> dict[str, PlannedResource]:
    return {r.address: r for r in planned_resources(load(name), REFERENCE)}


def one(
    values: dict[str, Any], type_: str, provider: str, config: dict[str, Any] | None = None
) -> PlannedResource:
    """The record of a one-resource plan, for rules that are easier to vary inline than in a file."""
    name = "x"
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "resources": [
                    {
                        "address": f"{type_}.{name}",
                        "mode": "managed",
                        "type": type_,
                        "name": name,
                        "provider_name": f"registry.terraform.io/hashicorp/{provider}",
                        "values": values,
                    }
                ]
            }
        },
        "configuration": {
            "provider_config": config or {},
            "root_module": {
                "resources": [
                    {
                        "address": f"{type_}.{name}",
                        "mode": "managed",
                        "type": type_,
                        "name": name,
                        "provider_config_key": provider,
                    }
                ]
            },
        },
    }
    (record,) = planned_resources(plan, REFERENCE)
    return record


# --- the three-provider plan -------------------------------------------------------------------

THREE = [
    # address, provider, places, place_source
    ("aws_s3_bucket.customers", "aws", ("eu-west-1",), "provider aws (var.region)"),
    ("aws_s3_bucket.archive", "aws", ("eu-central-1",), "provider aws.eu (constant)"),
    ("aws_dynamodb_table.sessions", "aws", ("us-east-1",), "provider aws.us (constant)"),
    ("aws_sqs_queue.events", "aws", ("eu-north-1",), "resource.region"),
    ("azurerm_storage_account.main", "azure", ("westeurope",), "resource.location"),
    ("azurerm_postgresql_flexible_server.db", "azure", ("germanywestcentral",), "resource.location"),
    ("google_storage_bucket.eu", "gcp", ("multi:EU",), "resource.location multi-region EU"),
    (
        "google_storage_bucket.dual",
        "gcp",
        ("europe-north1", "europe-west4"),
        "resource.location dual-region EUR4",
    ),
    ("google_compute_instance.app", "gcp", ("europe-west4",), "resource.zone europe-west4-a"),
    ("google_redis_instance.cache", "gcp", ("europe-west4",), "provider google (constant)"),
]


@pytest.mark.parametrize(("address", "provider", "places", "source"), THREE)
def test_three_provider_plan_places_each_resource(
    address: str, provider: str, places: tuple, source: str
) -> None:
    record = by_address("three_providers.json")[address]
    assert (record.provider, record.places, record.place_source) == (provider, places, source)
    assert record.unknown is None
    assert record.skipped is None


def test_three_provider_plan_region_computed_from_another_resource_is_unknown() -> None:
    record = by_address("three_providers.json")["aws_s3_bucket.replica"]
    assert record.places == ()
    assert record.place_source == "resource.region"
    assert record.unknown == "region is computed: known only after apply"
    assert record.skipped is None


def test_three_provider_plan_lists_every_managed_resource_and_no_data_source() -> None:
    plan = load("three_providers.json")
    managed = [
        r["address"] for r in plan["planned_values"]["root_module"]["resources"] if r["mode"] == "managed"
    ]
    records = planned_resources(plan, REFERENCE)
    assert [r.address for r in records] == managed
    assert "data.aws_caller_identity.current" not in {r.address for r in records}
    assert len(records) == 13


def test_three_provider_plan_skips_iam_and_random() -> None:
    records = by_address("three_providers.json")
    assert records["aws_iam_role.app"].skipped is not None
    assert records["aws_iam_role.app"].skipped.startswith("aws_iam_*:")
    assert records["random_id.suffix"].skipped is not None
    assert records["random_id.suffix"].skipped.startswith("random_*:")


# --- AWS -----------------------------------------------------------------------------------------


def test_aws_resource_region_wins_over_its_provider() -> None:
    record = by_address("three_providers.json")["aws_sqs_queue.events"]
    assert record.places == ("eu-north-1",)  # its provider aws.eu says eu-central-1


def test_aws_region_computed_by_the_provider_falls_back_to_the_provider() -> None:
    """Unknown until apply but not set in the configuration: the provider's own region (aws_s3_bucket v5)."""
    plan = load("three_providers.json")
    change = next(c for c in plan["resource_changes"] if c["address"] == "aws_s3_bucket.customers")
    assert change["change"]["after_unknown"]["region"] is True
    assert by_address("three_providers.json")["aws_s3_bucket.customers"].places == ("eu-west-1",)


def test_aws_variable_region_follows_the_plan_variable() -> None:
    plan = load("three_providers.json")
    plan["variables"]["region"]["value"] = "ap-southeast-2"
    record = {r.address: r for r in planned_resources(plan, REFERENCE)}["aws_s3_bucket.customers"]
    assert record.places == ("ap-southeast-2",)


UNKNOWN = [
    ("aws_s3_bucket.nullvar", "provider aws: var.region has no value in the plan"),
    ("aws_s3_bucket.noregion", "provider aws.noregion sets no region"),
    ("aws_s3_bucket.local", "provider aws.local region is computed from local.region"),
    ("aws_s3_bucket.missing", "the plan holds no configuration for provider aws.missing"),
    ("aws_s3_bucket.mars", "'mars-north-1' is not a region id in the aws catalogue"),
    ("aws_s3_bucket.isoe", "'eu-isoe-west-1' is an unconfirmed aws region (no confirmed country)"),
    ("azurerm_storage_container.blobs", "no location on the resource"),
    ("azurerm_storage_account.nowhere", "'Atlantis Central' is not a region id in the azure catalogue"),
    ("google_storage_bucket.asia", "Google names no countries for ASIA"),
    ("google_kms_key_ring.global", "'global' is not a region id in the gcp catalogue"),
    ("google_compute_disk.data", "'europe-west4' is not a Google zone"),
    ("kubernetes_namespace.app", "no place rules for provider 'kubernetes'"),
    ("google_pubsub_topic.anywhere", "google_pubsub_topic: a Pub/Sub topic without message_storage_policy"),
    ("aws_cloudfront_distribution.site", "aws_cloudfront_*: CloudFront is a global service"),
]


@pytest.mark.parametrize(("address", "reason"), UNKNOWN)
def test_a_place_that_cannot_be_known_is_unknown_and_not_skipped(address: str, reason: str) -> None:
    record = by_address("unknown_places.json")[address]
    assert record.unknown is not None
    assert record.unknown.startswith(reason)
    assert record.skipped is None


def test_unknown_places_leave_no_region_behind() -> None:
    """Fail closed: an unknown place never carries a catalogue region a caller could judge as fine."""
    for record in by_address("unknown_places.json").values():
        assert all(p.startswith("multi:") for p in record.places), record


def test_resource_with_no_place_anywhere_is_unknown() -> None:
    record = by_address("unknown_places.json")["azurerm_storage_container.blobs"]
    assert (record.places, record.place_source, record.skipped) == ((), "none", None)
    assert record.unknown == "no location on the resource"


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({}, "the plan holds no configuration for provider aws"),
        ({"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}}, "the plan holds no"),
        (
            {"aws": {"name": "aws", "expressions": {"region": {"constant_value": ""}}}},
            "provider aws: constant",
        ),
        (
            {"aws": {"name": "aws", "expressions": {"region": {"references": []}}}},
            "provider aws region is computed",
        ),
    ],
)
def test_aws_provider_without_a_usable_region_is_unknown(config: dict[str, Any], reason: str) -> None:
    record = one({"bucket": "b"}, "aws_s3_bucket", "aws", config)
    assert record.unknown is not None
    assert record.unknown.startswith(reason)


def test_resource_missing_from_the_configuration_is_unknown() -> None:
    plan = load("three_providers.json")
    plan["configuration"]["root_module"]["resources"] = []
    record = {r.address: r for r in planned_resources(plan, REFERENCE)}["aws_s3_bucket.archive"]
    assert record.unknown == "the plan has no configuration block for this resource"


def test_several_provider_configurations_count_together() -> None:
    """OpenTofu's provider_config_keys (for_each providers): every region counts, one unknown spoils all."""
    config = {
        "aws.a": {"name": "aws", "alias": "a", "expressions": {"region": {"constant_value": "eu-west-1"}}},
        "aws.b": {"name": "aws", "alias": "b", "expressions": {"region": {"constant_value": "us-west-2"}}},
    }
    plan = load("three_providers.json")
    plan["configuration"]["provider_config"] |= config
    block = next(r for r in plan["configuration"]["root_module"]["resources"] if r["name"] == "archive")
    del block["provider_config_key"]
    block["provider_config_keys"] = ["aws.a", "aws.b"]
    record = {r.address: r for r in planned_resources(plan, REFERENCE)}["aws_s3_bucket.archive"]
    assert (record.places, record.unknown) == (("eu-west-1", "us-west-2"), None)
    block["provider_config_keys"] = ["aws.a", "aws.none"]
    record = {r.address: r for r in planned_resources(plan, REFERENCE)}["aws_s3_bucket.archive"]
    assert record.unknown == "the plan holds no configuration for provider aws.none"


# --- modules -------------------------------------------------------------------------------------

MODULES = [
    ("aws_dynamodb_table.items[0]", ("eu-central-1",), "provider aws (constant)", None),
    ("module.storage.aws_s3_bucket.this", ("eu-west-3",), "provider module.storage:aws (constant)", None),
    (
        "module.storage.module.logs.aws_s3_bucket.logs",
        ("eu-west-3",),
        "provider module.storage:aws (constant)",
        None,
    ),
    ('module.replica["us"].aws_s3_bucket.this', ("us-east-1",), "provider aws.us (constant)", None),
    ("module.inherited.aws_s3_bucket.this", ("eu-central-1",), "provider aws (constant)", None),
    (
        "module.regional.aws_s3_bucket.this",
        (),
        "provider module.regional:aws",
        "var.region of module.regional is not recorded in the plan",
    ),
    (
        "module.passed.aws_s3_bucket.this",
        (),
        "provider module.passed:aws",
        "the plan holds no configuration for provider module.passed:aws",
    ),
]


@pytest.mark.parametrize(("address", "places", "source", "unknown"), MODULES)
def test_child_module_resources_use_their_module_provider(
    address: str, places: tuple, source: str, unknown: str | None
) -> None:
    record = by_address("modules.json")[address]
    assert (record.places, record.place_source, record.unknown) == (places, source, unknown)


def test_child_module_resources_keep_their_full_address() -> None:
    assert set(by_address("modules.json")) == {m[0] for m in MODULES}


def test_module_variable_is_not_taken_from_the_root_variables() -> None:
    """var.region in a module's provider block is the module's variable, not the root's (eu-west-1)."""
    record = by_address("modules.json")["module.regional.aws_s3_bucket.this"]
    assert "eu-west-1" not in record.places


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ('module.a["x.y"].module.b[0]', ("a", "b")),
        ("module.a.module.b", ("a", "b")),
        ('module.replica["us"].aws_s3_bucket.this', ("replica",)),
        ("aws_s3_bucket.this[0]", ()),
        ("", ()),
    ],
)
def test_module_path_drops_instance_keys(address: str, expected: tuple) -> None:
    assert module_path(address) == expected


# --- Azure ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "region"),
    [
        ("westeurope", "westeurope"),
        ("West Europe", "westeurope"),
        ("west europe", "westeurope"),
        ("  WEST   Europe ", "westeurope"),
        ("Germany West Central", "germanywestcentral"),
        ("Sweden Central", "swedencentral"),
        ("East US 2", "eastus2"),
    ],
)
def test_azure_location_by_id_or_display_name(location: str, region: str) -> None:
    record = one({"name": "a", "location": location}, "azurerm_storage_account", "azurerm")
    assert (record.provider, record.places, record.unknown) == ("azure", (region,), None)


def test_azure_location_computed_in_the_configuration_is_unknown() -> None:
    plan = load("three_providers.json")
    for r in plan["planned_values"]["root_module"]["resources"]:
        if r["address"] == "azurerm_storage_account.main":
            del r["values"]["location"]
    change = next(c for c in plan["resource_changes"] if c["address"] == "azurerm_storage_account.main")
    change["change"]["after_unknown"]["location"] = True
    record = {r.address: r for r in planned_resources(plan, REFERENCE)}["azurerm_storage_account.main"]
    assert (record.places, record.unknown) == ((), "location is computed: known only after apply")


# --- Google --------------------------------------------------------------------------------------

GOOGLE = [
    ("google_storage_bucket.us", ("multi:US",), "resource.location multi-region US"),
    ("google_storage_bucket.eu_lower", ("multi:EU",), "resource.location multi-region EU"),
    ("google_storage_bucket.nam4", ("us-central1", "us-east1"), "resource.location dual-region NAM4"),
    ("google_storage_bucket.regional", ("europe-west4",), "resource.location"),
    (
        "google_storage_bucket.configurable",
        ("europe-west1", "europe-west4"),
        "resource.custom_placement_config.data_locations",
    ),
    ("google_sql_database_instance.db", ("europe-west1",), "resource.region"),
    ("google_container_cluster.gke", ("europe-west3",), "resource.location zone europe-west3-c"),
    ("google_compute_instance.vm", ("europe-west2",), "provider google-beta zone europe-west2-c (constant)"),
    ("google_cloudfunctions_function.fn", ("europe-west1",), "provider google (constant)"),
    (
        "google_pubsub_topic.pinned",
        ("europe-west1", "europe-west4"),
        "resource.message_storage_policy.allowed_persistence_regions",
    ),
]


@pytest.mark.parametrize(("address", "places", "source"), GOOGLE)
def test_google_places(address: str, places: tuple, source: str) -> None:
    record = by_address("google_places.json")[address]
    assert (record.provider, record.places, record.place_source, record.unknown) == (
        "gcp",
        places,
        source,
        None,
    )


@pytest.mark.parametrize("code", sorted(GCP_DUAL_REGIONS))
def test_google_dual_regions_expand_to_catalogue_regions(code: str) -> None:
    record = one({"name": "b", "location": code.lower()}, "google_storage_bucket", "google")
    assert record.places == tuple(sorted(GCP_DUAL_REGIONS[code]))
    assert record.unknown is None
    assert set(record.places) <= set(REFERENCE.region_ids("gcp"))


def test_google_multi_region_countries() -> None:
    assert multi_region_countries("multi:EU") == EU_MEMBER_STATES
    assert len(EU_MEMBER_STATES) == 27
    assert multi_region_countries("multi:US") == frozenset({"US"})
    assert multi_region_countries("multi:ASIA") is None
    assert multi_region_countries("europe-west4") is None


def test_google_configurable_dual_region_outside_the_catalogue_is_unknown() -> None:
    values = {
        "name": "b",
        "location": "EU",
        "custom_placement_config": [{"data_locations": ["EUROPE-WEST99"]}],
    }
    record = one(values, "google_storage_bucket", "google")
    assert record.unknown == "'EUROPE-WEST99' is not a region id in the gcp catalogue"


def test_google_provider_region_comes_before_its_zone() -> None:
    config = {
        "google": {
            "name": "google",
            "expressions": {
                "region": {"constant_value": "europe-west1"},
                "zone": {"constant_value": "us-east1-b"},
            },
        }
    }
    record = one({"name": "r"}, "google_redis_instance", "google", config)
    assert (record.places, record.place_source) == (("europe-west1",), "provider google (constant)")


def test_global_service_is_not_placed_in_its_provider_region() -> None:
    """CloudFront under a provider in eu-central-1 still serves from edge locations everywhere."""
    record = by_address("unknown_places.json")["aws_cloudfront_distribution.site"]
    assert (record.places, record.skipped) == ((), None)
    assert record.unknown is not None


@pytest.mark.parametrize(("provider", "pattern", "reason"), GLOBAL_RULES)
def test_global_rules_make_the_place_unknown(provider: str, pattern: str, reason: str) -> None:
    name = {"aws": "aws", "gcp": "google"}[provider]
    config = {name: {"name": name, "expressions": {"region": {"constant_value": "eu-west-1"}}}}
    record = one({"name": "g"}, pattern.replace("*", "thing"), name, config)
    assert (record.places, record.unknown) == ((), f"{pattern}: {reason}")


# --- skipped resources ---------------------------------------------------------------------------

SKIPS = [
    ("aws_iam_policy.read", "aws_iam_*"),
    ("aws_route53_record.www", "aws_route53_record"),
    ("aws_security_group.web", "aws_security_group*"),
    ("aws_vpc_security_group_ingress_rule.https", "aws_vpc_security_group_*_rule"),
    ("azurerm_role_assignment.reader", "azurerm_role_assignment"),
    ("azurerm_resource_group.acme", "azurerm_resource_group"),
    ("azurerm_network_security_group.web", "azurerm_network_security_group"),
    ("azurerm_dns_a_record.www", "azurerm_dns_*_record"),
    ("azurerm_role_definition.ops", "azurerm_role_definition"),
    ("azurerm_network_security_rule.https", "azurerm_network_security_rule"),
    ("azurerm_private_dns_a_record.db", "azurerm_private_dns_*_record"),
    ("google_storage_bucket_iam_binding.readers", "google_*_iam_binding"),
    ("google_kms_crypto_key_iam_policy.key", "google_*_iam_policy"),
    ("google_project_service.storage", "google_project_service"),
    ("google_compute_firewall.https", "google_compute_firewall"),
    ("google_project_iam_member.viewer", "google_project_iam_*"),
    ("google_storage_bucket_iam_member.reader", "google_*_iam_member"),
    ("google_dns_record_set.www", "google_dns_record_set"),
    ("google_service_account.app", "google_service_account"),
    ("random_password.db", "random_*"),
    ("null_resource.wait", "null_resource"),
    ("time_sleep.wait", "time_*"),
    ("tls_private_key.ssh", "tls_private_key"),
    ("terraform_data.marker", "terraform_data"),
]


@pytest.mark.parametrize(("address", "pattern"), SKIPS)
def test_resources_without_personal_data_are_skipped_by_rule(address: str, pattern: str) -> None:
    skipped = by_address("skips.json")[address].skipped
    assert skipped is not None
    assert skipped.startswith(f"{pattern}: ")


def test_skip_rules_are_listed_with_reasons() -> None:
    for provider, pattern, reason in SKIP_RULES:
        assert provider and pattern and len(reason) > 10


@pytest.mark.parametrize(
    ("provider", "type_"),
    [
        ("aws", "aws_s3_bucket"),
        ("aws", "aws_db_instance"),
        ("azure", "azurerm_storage_account"),
        ("azure", "azurerm_mssql_database"),
        ("gcp", "google_storage_bucket"),
        ("gcp", "google_iam_workload_identity_pool"),
        ("gcp", "google_bigquery_dataset"),
        ("aws", "random_id"),  # the rule is for the random provider only
    ],
)
def test_data_stores_are_not_skipped(provider: str, type_: str) -> None:
    assert rule_skip(provider, type_) is None


def test_skipped_resource_keeps_its_place() -> None:
    record = by_address("skips.json")["azurerm_resource_group.acme"]
    assert (record.places, record.unknown) == (("westeurope",), None)


TAGGED = [
    ("aws_s3_bucket.tagged", 'tags.personal-data = "false"'),
    ("aws_s3_bucket.default_tags", 'tags_all.personal_data = "false"'),
    ("aws_autoscaling_group.workers", 'tag.personal-data = "false"'),
    ("aws_launch_template.workers", 'tags.personal-data = "false"'),
    ("azurerm_storage_account.tagged", 'tags.Personal-Data = "false"'),
    ("google_storage_bucket.labelled", 'labels.personal-data = "false"'),
    ("google_storage_bucket.effective", 'effective_labels.personal_data = "false"'),
]


@pytest.mark.parametrize(("address", "reason"), TAGGED)
def test_personal_data_false_tag_skips_the_resource(address: str, reason: str) -> None:
    skipped = by_address("skips.json")[address].skipped
    assert skipped is not None
    assert skipped.startswith(reason)


def test_personal_data_true_tag_is_judged() -> None:
    record = by_address("skips.json")["aws_s3_bucket.personal"]
    assert (record.skipped, record.places) == (None, ("eu-west-1",))


@pytest.mark.parametrize(
    "values",
    [
        {"tags": {"personal-data": "no"}},
        {"tags": {"personal-data-owner": "false"}},
        {"tags": ["personal-data"]},  # Google network tags are a list of strings
        {"tags": None},
        {"labels": {"data": "false"}},
    ],
)
def test_other_tags_do_not_skip(values: dict[str, Any]) -> None:
    assert tag_skip(values) is None


def test_every_skip_rule_has_a_fixture() -> None:
    assert {pattern for _, pattern, _ in SKIP_RULES} == {pattern for _, pattern in SKIPS}


# --- plans from Checkov (Apache-2.0) -------------------------------------------------------------

CHECKOV = [
    ("checkov_google_plan_booleans.json", "google_compute_instance.default", ("us-central1",), None, False),
    ("checkov_google_plan_booleans.json", "google_service_account.default", ("europe-west2",), None, True),
    ("checkov_azurerm_extra_ref.json", "azurerm_network_security_group.fail", ("canadacentral",), None, True),
    ("checkov_azurerm_extra_ref.json", "azurerm_resource_group.test", ("canadacentral",), None, True),
    ("checkov_aws_win_utf8.json", "aws_s3_bucket.data", ("us-west-2",), None, False),
    (
        "checkov_aws_modules_enrichment.json",
        "module.log_group_external.aws_cloudwatch_log_group.this[0]",
        ("eu-central-1",),
        None,
        False,
    ),
    (
        "checkov_aws_modules_enrichment.json",
        "module.log_group_local.aws_cloudwatch_log_group.not_encrypted",
        (),
        "the plan holds no configuration for provider log_group_local:aws",
        False,
    ),
    (
        "checkov_aws_nested_child_modules.json",
        "module.child_0.module.child_1_a.aws_eks_cluster.cluster",
        (),
        "the plan holds no configuration for provider child_1_a:aws",
        False,
    ),
]


@pytest.mark.parametrize(("name", "address", "places", "unknown", "skipped"), CHECKOV)
def test_checkov_plans(name: str, address: str, places: tuple, unknown: str | None, skipped: bool) -> None:
    record = by_address(name)[address]
    assert (record.places, record.unknown, record.skipped is not None) == (places, unknown, skipped)


def test_checkov_nested_modules_are_all_listed() -> None:
    assert len(by_address("checkov_aws_nested_child_modules.json")) == 3


# --- reading the plan ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
        lambda text: text.encode("utf-16"),
        lambda text: text,
    ],
)
def test_read_plan_accepts_byte_order_marks(encode: Any) -> None:
    text = (PLANS / "checkov_aws_win_utf8.json").read_text(encoding="utf-8")
    plan = read_plan(encode(text))
    assert [r.places for r in planned_resources(plan, REFERENCE)] == [("us-west-2",)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{", "not JSON"),
        ("[]", "no format_version"),
        ('{"format_version": "1.0", "values": {}}', "no planned_values"),
        ('{"format_version": "2.0", "planned_values": {}}', "unsupported plan format_version"),
    ],
)
def test_read_plan_refuses_what_is_not_a_plan(data: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        read_plan(data)


def test_planned_resources_refuses_a_state() -> None:
    with pytest.raises(PlanError):
        planned_resources({"format_version": "1.0", "values": {"root_module": {}}}, REFERENCE)


def test_empty_plan_has_no_resources() -> None:
    assert (
        planned_resources({"format_version": "1.2", "planned_values": {"root_module": {}}}, REFERENCE) == []
    )


def test_planned_resources_does_not_change_the_plan() -> None:
    plan = load("three_providers.json")
    before = copy.deepcopy(plan)
    planned_resources(plan, REFERENCE)
    assert plan == before
    assert json.dumps(plan, sort_keys=True) == json.dumps(before, sort_keys=True)


@pytest.mark.parametrize(
    ("name", "provider"),
    [
        ("registry.terraform.io/hashicorp/aws", "aws"),
        ("registry.terraform.io/hashicorp/azurerm", "azure"),
        ("registry.terraform.io/hashicorp/google-beta", "gcp"),
        ("registry.opentofu.org/hashicorp/google", "gcp"),
        ("aws", "aws"),
        ("registry.terraform.io/hetznercloud/hcloud", "hcloud"),
    ],
)
def test_provider_of(name: str, provider: str) -> None:
    assert provider_of(name) == provider
