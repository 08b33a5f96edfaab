"""Vendors (SPEC section 11): a supplier's offer as a document, turned into flows.

Pure functions over data: validate a vendor document, expand it into the recipient of a
flow (cut to the products a customer uses, with the residency option it chose, under the
customer's own contract state), list what changed between two revisions, and judge what a
change means. The store and HTTP live in `service/`.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import Problem, RequestInvalid
from engine.flow import Location, Recipient
from engine.request_errors import pydantic_problems
from engine.resolve import Resolver

VENDOR_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VendorSource(_Model):
    url: Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]
    retrieved: dt.date
    title: Annotated[str, Field(min_length=1, max_length=300)] | None = None


class Residency(_Model):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    #: party name -> the places it keeps the data in under this option
    locations: dict[str, list[Location]]


class VendorDocument(_Model):
    """A supplier's contracting entity, standard terms and published sub-processor list."""

    id: Annotated[str, Field(pattern=VENDOR_ID)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    list_version: Annotated[str, Field(min_length=1, max_length=100)]
    sources: list[VendorSource] = Field(min_length=1)
    notice_days: Annotated[int, Field(ge=0, le=365)] | None = None
    recipient: dict[str, Any]
    products: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list)
    residency: dict[str, Residency] = Field(default_factory=dict)


def parse(payload: Any, resolver: Resolver | None = None) -> VendorDocument:
    """A vendor document, with its recipient tree checked as a flow's recipient (products
    aside) and, given a resolver, every country and place resolved; every problem is listed
    with its place, as for a flow request."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, TypeError, ValueError):
        raise RequestInvalid(
            [Problem("(body)", "the document holds text that is not valid Unicode", None)]
        ) from None
    try:
        doc = VendorDocument.model_validate(payload)
    except ValidationError as exc:
        raise RequestInvalid(pydantic_problems(exc)) from None
    problems: list[Problem] = []
    plain, _ = _without_products(doc.recipient, "recipient", doc.products, problems)
    try:
        tree = Recipient.model_validate(plain)
    except ValidationError as exc:
        problems.extend(
            Problem(f"recipient.{p.loc}" if not p.loc.startswith("(") else "recipient", p.msg, p.hint)
            for p in pydantic_problems(exc)
        )
    else:
        if resolver is not None:
            problems.extend(_place_problems(tree, "recipient", resolver))
    if resolver is not None:
        for option, residency in doc.residency.items():
            for party, places in residency.locations.items():
                for i, place in enumerate(places):
                    problems.extend(_resolves(resolver, f"residency.{option}.locations.{party}[{i}]", place))
    all_names = _names(doc.recipient)
    names = set(all_names)
    repeated = sorted({n for n in all_names if all_names.count(n) > 1})
    if repeated:
        hint = "residency, products and findings refer to parties by name: make each one unique"
        problems.append(Problem("recipient", f"parties named more than once: {repeated}", hint))
    for option, residency in doc.residency.items():
        for party in residency.locations:
            if party not in names:
                problems.append(Problem(f"residency.{option}.locations", f"no party named {party!r}", None))
    if problems:
        raise RequestInvalid(problems)
    return doc


def _place_problems(node: Recipient, loc: str, resolver: Resolver) -> list[Problem]:
    out = []
    if node.country is not None and resolver.country(node.country) is None:
        out.append(resolver.country_problem(f"{loc}.country", node.country))
    for i, place in enumerate(node.locations):
        out.extend(_resolves(resolver, f"{loc}.locations[{i}]", place))
    for i, child in enumerate(node.sub_processors):
        out.extend(_place_problems(child, f"{loc}.sub_processors[{i}]", resolver))
    return out


def _resolves(resolver: Resolver, loc: str, place: Any) -> list[Problem]:
    _, problem = resolver.location(loc, place)
    return [problem] if problem else []


def _without_products(
    node: dict[str, Any], loc: str, offered: list[str], problems: list[Problem]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The node tree without `products` keys (not a flow field), and each node's products."""
    out = {k: v for k, v in node.items() if k not in ("products", "sub_processors")}
    products: dict[str, list[str]] = {}
    own = node.get("products")
    if own is not None:
        if not isinstance(own, list) or not all(isinstance(p, str) for p in own):
            problems.append(Problem(f"{loc}.products", "products is a list of product ids", None))
        else:
            unknown = sorted(set(own) - set(offered))
            if unknown:
                problems.append(
                    Problem(f"{loc}.products", f"unknown products {unknown}", f"offered: {offered}")
                )
            products[str(node.get("name"))] = own
    children = node.get("sub_processors", [])
    if isinstance(children, list):
        kept = []
        for i, child in enumerate(children):
            if isinstance(child, dict):
                plain, more = _without_products(child, f"{loc}.sub_processors[{i}]", offered, problems)
                kept.append(plain)
                products.update(more)
            else:
                kept.append(child)
        out["sub_processors"] = kept
    elif "sub_processors" in node:
        out["sub_processors"] = children
    return out, products


def _names(node: dict[str, Any]) -> list[str]:
    out = [str(node.get("name"))]
    for child in node.get("sub_processors", []) or []:
        if isinstance(child, dict):
            out.extend(_names(child))
    return out


def digest(doc: VendorDocument) -> str:
    """What identifies a revision's content: the same document stores no new revision."""
    text = json.dumps(doc.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# ----------------------------------------------------------------- a flow from a vendor


def recipient(
    doc: VendorDocument,
    products: list[str] | None = None,
    residency: str | None = None,
    agreement: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The flow's recipient: the vendor's tree cut to `products` (nodes without products
    serve all), with the places of the `residency` option, and the customer's `agreement`
    fields over the contracting entity's standard terms."""
    problems = []
    if products:
        unknown = sorted(set(products) - set(doc.products))
        if unknown:
            problems.append(Problem("products", f"unknown products {unknown}", f"offered: {doc.products}"))
    if residency is not None and residency not in doc.residency:
        problems.append(
            Problem(
                "residency", f"unknown residency option {residency!r}", f"offered: {sorted(doc.residency)}"
            )
        )
    if problems:
        raise RequestInvalid(problems)
    places = (
        {k: [_place(v) for v in vs] for k, vs in doc.residency[residency].locations.items()}
        if residency
        else {}
    )
    root = _cut(copy.deepcopy(doc.recipient), set(products or []), places)
    if agreement:
        root["agreement"] = _merge(root.get("agreement", {}), agreement)
    return root


def _place(value: Any) -> Any:
    return value.model_dump(exclude_defaults=True) if isinstance(value, BaseModel) else value


def _cut(node: dict[str, Any], products: set[str], places: dict[str, list[Any]]) -> dict[str, Any]:
    node.pop("products", None)
    if node.get("name") in places:
        node["locations"] = places[node["name"]]
    children = []
    for child in node.get("sub_processors", []):
        serves = child.get("products")
        if products and serves is not None and not products.intersection(serves):
            continue
        children.append(_cut(child, products, places))
    if "sub_processors" in node:
        node["sub_processors"] = children
    return node


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        )
    return out


# ----------------------------------------------------------------- what a change means


def parties(doc: VendorDocument) -> dict[str, dict[str, Any]]:
    """Every party of the chain by name, without its children."""
    out: dict[str, dict[str, Any]] = {}

    def visit(node: dict[str, Any]) -> None:
        out[str(node.get("name"))] = {k: v for k, v in node.items() if k != "sub_processors"}
        for child in node.get("sub_processors", []):
            visit(child)

    visit(doc.recipient)
    return out


def changes(before: VendorDocument, after: VendorDocument) -> list[dict[str, Any]]:
    """Per party: added, removed, or changed (locations, or other terms)."""
    old, new = parties(before), parties(after)
    out: list[dict[str, Any]] = []
    for name in new:
        if name not in old:
            out.append({"party": name, "change": "added", "locations": new[name].get("locations")})
        elif old[name] != new[name]:
            moved = old[name].get("locations") != new[name].get("locations")
            out.append(
                {
                    "party": name,
                    "change": "locations_changed" if moved else "terms_changed",
                    "before": old[name].get("locations") if moved else None,
                    "after": new[name].get("locations") if moved else None,
                }
            )
    out.extend({"party": name, "change": "removed"} for name in old if name not in new)
    return out


def _keys(items: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {(i["code"], i["party"], i.get("location")): i for i in items}


def review(
    before: dict[str, Any], after: dict[str, Any], notified_on: dt.date, notice_days: int | None
) -> dict[str, Any]:
    """What a change of sub-processors means for the customer, from the decisions (as JSON)
    on the revision before and after: new and resolved findings, and the verdict."""
    old_c, new_c = _keys(before["conditions"]), _keys(after["conditions"])
    old_d, new_d = _keys(before["denials"]), _keys(after["denials"])
    new_conditions = [v for k, v in new_c.items() if k not in old_c]
    new_denials = [v for k, v in new_d.items() if k not in old_d]
    resolved = [v for k, v in {**old_c, **old_d}.items() if k not in new_c and k not in new_d]
    verdict = "object" if new_denials else "accept_with_conditions" if after["conditions"] else "accept"
    object_by = (
        (notified_on + dt.timedelta(days=notice_days)).isoformat() if notice_days is not None else None
    )
    return {
        "verdict": verdict,
        "object_by": object_by,
        "reasons": [d["message"] for d in new_denials],
        "new_conditions": new_conditions,
        "new_denials": new_denials,
        "resolved": resolved,
    }


#: exit statuses of `doorgifte vendor review` (a nightly job reads them)
VERDICT_EXIT = {"accept": 0, "accept_with_conditions": 10, "object": 20}


def vendor_ref(doc: VendorDocument, revision: int) -> dict[str, Any]:
    return {"id": doc.id, "revision": revision, "list_version": doc.list_version}
