"""Location facts that depend on the hop's regime (SPEC section 4a).

The GDPR's facts (zone, bridge, the EU clause sets) come from `facts.py`. Under the UK GDPR
or the Swiss FADP the same questions get the regime's answers, read from its file in
`adequacy_data/regimes/`: whether the place is inside the regime's own area, which clauses
count on the date (the IDTA, the UK Addendum with the 2021 EU clauses, the adapted EU
clauses, the old EU sets under the regime's own transition), which one is to be signed, and
the provisions in force on the date, which the rules cite as their `basis`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine.flow import Recipient
from engine.reference import RegimeFile, SccSet
from engine.regime import LAW_TOPICS

#: the facts when the hop's regime has no file (the GDPR, or no modelled law)
NO_REGIME: dict[str, Any] = {
    "tools_era": False,
    "tool_stated": False,
    "tool_counts": False,
    "tool_transitional": False,
    "tool_counted": None,
    "tool_act": None,
    "tool_problem": "",
    "tool_to_sign": None,
    "tool_to_sign_act": None,
    "tool_to_sign_clauses": None,
    "tool_in_transition": False,
    "safeguards_notified": False,
    "legacy_new_contracts_until": None,
    "legacy_concluded_contracts_until": None,
    "sensitive_to_identify": False,
    "sensitive_categories": [],
    **{f"law_{topic}": [] for topic in LAW_TOPICS},
}


class RegimeTools:
    """Which of a regime's transfer tools count for one hop on one date, and which to sign."""

    def __init__(self, law: RegimeFile, scc_set: Callable[[str], SccSet], as_of: dt.date, also_gdpr: bool):
        """`scc_set`: an EU clause set by id (`Reference.scc_set`); `also_gdpr`: the hop is judged
        under the GDPR too, so the instrument to add to the EU clauses it needs anyway is the UK
        Addendum."""
        self.law = law
        self.scc_set = scc_set
        self.as_of = as_of
        self.also_gdpr = also_gdpr

    def facts(self, node: Recipient, module: int) -> dict[str, Any]:
        s = node.agreement.safeguards
        stated = s.scc is not None or s.idta is not None or s.uk_addendum is not None
        counted, transitional = self._counted(node, module)
        to_sign = self._to_sign(module)
        legacy = self.law.legacy_clauses
        return {
            "tools_era": self._open_tools() != [],
            "tool_stated": stated,
            "tool_counts": counted is not None,
            "tool_transitional": transitional,
            "tool_counted": counted,
            "tool_act": self._act(counted),
            "tool_problem": "" if counted or not stated else self._problem(node, module),
            "tool_to_sign": to_sign,
            "tool_to_sign_act": self._act(to_sign),
            "tool_to_sign_clauses": self._clause_set(to_sign),
            # counts only because it was concluded in time, after new contracts closed
            "tool_in_transition": transitional and self.as_of > legacy.new_contracts_until,
            "safeguards_notified": self.law.safeguards_notified(self.as_of),
            "legacy_new_contracts_until": legacy.new_contracts_until.isoformat(),
            "legacy_concluded_contracts_until": legacy.concluded_contracts_until.isoformat(),
        }

    def _open_tools(self) -> list[str]:
        return [t.id for t in self.law.tools if t.applies_from <= self.as_of]

    def _counted(self, node: Recipient, module: int) -> tuple[str | None, bool]:
        """The tool that counts, and whether only by the old sets' transition."""
        s = node.agreement.safeguards
        for tool in self.law.tools:
            if tool.applies_from > self.as_of:
                continue
            own = getattr(s, tool.stated_by)
            if own is None or (own.concluded_on is not None and own.concluded_on > self.as_of):
                continue
            if tool.with_clauses and not self._clauses(node, module, tool.with_clauses):
                continue
            return tool.id, False
        if s.scc is not None and self._legacy_counts(node, module):
            return s.scc.decision, True
        return None, False

    def _clauses(self, node: Recipient, module: int, decision: str) -> bool:
        scc = node.agreement.safeguards.scc
        return scc is not None and scc.decision == decision and scc.module == module

    def _legacy_counts(self, node: Recipient, module: int) -> bool:
        scc = node.agreement.safeguards.scc
        legacy = self.law.legacy_clauses
        if scc is None or scc.decision not in legacy.sets or module not in self.scc_set(scc.decision).modules:
            return False
        concluded = scc.concluded_on or self.as_of
        return (
            scc.module == module
            and concluded <= self.as_of
            and concluded <= legacy.new_contracts_until
            and self.as_of <= legacy.concluded_contracts_until
        )

    def _problem(self, node: Recipient, module: int) -> str:
        s = node.agreement.safeguards
        if s.scc is not None and s.scc.module != module:
            return "module_mismatch"
        if any(t.applies_from > self.as_of for t in self.law.tools if getattr(s, t.stated_by) is not None):
            return "not_yet_applicable"
        if s.uk_addendum is not None:
            return "addendum_without_clauses"
        if s.scc is not None and s.scc.decision in self.law.legacy_clauses.sets:
            return "expired"
        if s.scc is not None and not any(t.stated_by == "scc" for t in self.law.tools):
            return "eu_clauses_alone"
        return "not_yet_concluded"

    def _to_sign(self, module: int) -> str | None:
        """The instrument to sign on the date: the regime's own once it exists (the Addendum
        for a hop that needs the EU clauses too), before that the newest old EU set."""
        open_tools = self._open_tools()
        if open_tools:
            if self.also_gdpr and "uk_addendum" in open_tools:
                return "uk_addendum"
            return open_tools[0]
        legacy = self.law.legacy_clauses
        if self.as_of > legacy.new_contracts_until:
            return None
        candidates = [self.scc_set(d) for d in legacy.sets if module in self.scc_set(d).modules]
        newest = max(candidates, key=lambda c: c.adopted, default=None)
        return newest.id if newest else None

    def _clause_set(self, tool_id: str | None) -> str | None:
        """The EU clause set a tool to sign is made of (the adapted 2021/914 clauses, or an old
        set itself), for `transfer.sign_scc`'s `decision`; None for a tool of its own (the IDTA)."""
        if tool_id is None:
            return None
        tool = next((t for t in self.law.tools if t.id == tool_id), None)
        return tool.with_clauses if tool else tool_id

    def _act(self, tool_id: str | None) -> str | None:
        if tool_id is None:
            return None
        tool = next((t for t in self.law.tools if t.id == tool_id), None)
        return tool.act if tool else self.scc_set(tool_id).act


def citations(law: RegimeFile, on: dt.date) -> dict[str, list[str]]:
    """The provisions in force on `on`, as the facts `law_<topic>` rules cite in `basis`."""
    return {f"law_{topic}": law.citations(topic, on) for topic in LAW_TOPICS}


def sensitive(law: RegimeFile, categories: set[str]) -> dict[str, Any]:
    """Categories the regime's US bridge needs identified to the recipient as sensitive."""
    found = sorted(categories.intersection(law.identify_as_sensitive))
    return {"sensitive_to_identify": bool(found), "sensitive_categories": found}
