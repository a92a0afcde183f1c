"""Screenshots of the workshop's pages for docs/workshop.md (projector and phone sizes).

Stages a workshop through its session API (three teams, an observer, a practice round and
its reset, research, a grant, a shock, a pending deadline), serves it as ``outsidein
workshop --resume`` would, and saves each page at 1280x720 and 390x844 under docs/img/.
Run from the repository's root: ``python -m scripts.workshop_screenshots``.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulation.params import LEVERS  # noqa: E402
from simulation.viz.workshop.session import Config, Workshop  # noqa: E402
from tests.viz.browser import app_server, launched_chromium, loopback_page  # noqa: E402

OUT = ROOT / "docs" / "img"
PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}


def stage(folder: Path, practice_only: bool = False) -> dict[str, str]:
    """A workshop in its log folder, as a class leaves it; the links' secrets."""
    shop = Workshop.create(Config(teams=4, round_months=6, team_cap=3, password="sesame"),
                           folder)
    red, blue, green = (shop.join(n, "sesame") for n in ("Red", "Blue", "Green"))
    watcher = shop.watch("TA Sam", "sesame")
    shop.act("practice")
    if not practice_only:
        shop.advance()
        shop.act("reset")
        shop.research(blue.token)
        shop.submit(red.token, {**red.decisions.levers, "clout": 0.3}, 1.2, "")
        shop.submit(blue.token, {**blue.decisions.levers, "connections": 0.9}, 0.95, "")
        shop.advance()
        shop.grant("Green", 1.5, "best question of the round")
        shop.shock()
        shop.disruptor()
        shop.submit(green.token, {k: 0.7 for k in LEVERS}, 1.0, "outside_in")
        shop.advance()
        shop.research(blue.token)
        shop.broadcast("Ten minutes for round 3")
        shop.set_deadline(10.0, "advance")
    links = {"key": str(shop.key), "red": red.token, "blue": blue.token,
             "observer": watcher, "code": shop.start.code,
             "observe": shop.start.observe_code}
    shop.close()
    return links


def shoot(pg: object, name: str) -> None:
    """Save the page's viewport as docs/img/NAME."""
    pg.wait_for_timeout(1000)  # type: ignore[attr-defined]  # the page's fade-in
    pg.screenshot(path=str(OUT / name))  # type: ignore[attr-defined]
    print("wrote", OUT / name)


def main() -> None:
    """Stage, serve and photograph every page of the workshop."""
    with tempfile.TemporaryDirectory() as tmp, launched_chromium() as browser:
        links = stage(Path(tmp) / "main")
        with app_server("--resume", str(Path(tmp) / "main"), "--no-qr",
                        command="workshop") as (url, _):
            for size, tag in ((PROJECTOR, "1280x720"), (PHONE, "390x844")):
                pg = loopback_page(browser, f"{url}?key={links['key']}", size)
                pg.locator(".oi-session").wait_for()
                shoot(pg, f"workshop-console-{tag}.png")
                if tag == "390x844":
                    pg.locator(".oi-grants").scroll_into_view_if_needed()
                    shoot(pg, f"workshop-console-grants-{tag}.png")
                pg.context.close()
                pg = loopback_page(browser, f"{url}?team={links['blue']}", size)
                pg.locator(".oi-countdown").wait_for()
                shoot(pg, f"workshop-team-{tag}.png")
                pg.locator(".oi-research").scroll_into_view_if_needed()
                shoot(pg, f"workshop-research-{tag}.png")
                pg.locator(".oi-report").scroll_into_view_if_needed()
                shoot(pg, f"workshop-report-{tag}.png")
                pg.context.close()
                pg = loopback_page(browser, f"{url}?observer={links['observer']}", size)
                pg.locator(".oi-observed-team").first.wait_for()
                shoot(pg, f"workshop-observer-{tag}.png")
                pg.context.close()
                pg = loopback_page(browser, f"{url}?join={links['code']}", size)
                pg.locator(".oi-caps").wait_for()
                shoot(pg, f"workshop-join-{tag}.png")
                pg.context.close()
                pg = loopback_page(browser, f"{url}?key={links['key']}&view=debrief", size)
                pg.locator(".oi-debrief-team").first.wait_for()
                pg.get_by_role("button", name=re.compile("^What if")).click()
                pg.locator(".oi-what-if-done").wait_for(timeout=120_000)
                shoot(pg, f"workshop-debrief-{tag}.png")
                pg.locator(".oi-what-if").first.scroll_into_view_if_needed()
                shoot(pg, f"workshop-what-if-{tag}.png")
                pg.context.close()
        team = stage(Path(tmp) / "practice", practice_only=True)["red"]
        with app_server("--resume", str(Path(tmp) / "practice"), "--no-qr",
                        command="workshop") as (url, _):
            pg = loopback_page(browser, f"{url}?team={team}", PHONE)
            pg.locator(".oi-practice").wait_for()
            shoot(pg, "workshop-practice-390x844.png")
            pg.context.close()


if __name__ == "__main__":
    main()
