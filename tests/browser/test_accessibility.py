"""axe-core (from npm, served from node_modules: no CDN) on the visualiser and the lab: no serious or critical
violations. axe is injected as a script, which the pages' CSP (script-src 'self', no inline script) forbids, so
only these contexts bypass the CSP; every other browser test runs under it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.test_visualiser import hover_unit, open_page, stroke, wait_prediction

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="module")
def axe_source() -> Path:
    if not AXE.exists():
        if os.environ.get("CONVSCOPE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{AXE} is missing: run `npm ci` before the tests")
        pytest.skip(f"{AXE} is missing: run `npm ci` to check accessibility with axe-core")
    return AXE


def serious(pg, axe: Path) -> list[str]:
    pg.add_script_tag(path=str(axe))
    result = pg.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_visualiser_has_no_serious_axe_violations(browser, server: str, axe_source: Path) -> None:
    with open_page(browser, server + "/", bypass_csp=True) as (pg, _):
        pg.wait_for_selector("button.sample")
        stroke(pg, [(0.25, 0.2), (0.75, 0.2), (0.4, 0.85)])
        wait_prediction(pg, "7")
        hover_unit(pg, "conv2", (3, 4, 5))
        pg.wait_for_selector("[data-testid=detail] [data-role=sum]")
        problems = serious(pg, axe_source)
        assert problems == [], "\n".join(problems)


def test_visualiser_on_a_phone_has_no_serious_axe_violations(browser, server: str, axe_source: Path) -> None:
    phone = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True, "bypass_csp": True}
    with open_page(browser, server + "/", **phone) as (pg, _):
        pg.wait_for_selector("button.sample")
        problems = serious(pg, axe_source)
        assert problems == [], "\n".join(problems)


def test_lab_has_no_serious_axe_violations(browser, server: str, axe_source: Path) -> None:
    with open_page(browser, server + "/lab", bypass_csp=True) as (pg, _):
        pg.wait_for_selector("[data-testid=lab-output-size] [data-role=size]")
        problems = serious(pg, axe_source)
        assert problems == [], "\n".join(problems)


def test_explain_has_no_serious_axe_violations(browser, server: str, axe_source: Path) -> None:
    with open_page(browser, server + "/explain?model=lenet", bypass_csp=True) as (pg, _):
        pg.wait_for_selector("body[data-ready=true]", timeout=60_000)
        pg.wait_for_selector("[data-testid=attribution-overlay][data-method]")
        problems = serious(pg, axe_source)
        assert problems == [], "\n".join(problems)
