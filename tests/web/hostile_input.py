"""Hostile input for resident submissions: payloads, a hypothesis strategy, and a sender.

Shared by tests/web/test_hostile.py (server side) and tests/browser/test_hostile_render.py
(rendered in Chromium). The hypothesis profiles: "hostile" runs 1,000 examples, and
``ASSETMAP_LONG=1`` selects "hostile-long" with 5,000.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.web.residents import form_tokens

SUBMISSIONS = "/api/v1/submissions"

hsettings.register_profile(
    "hostile",
    max_examples=1000,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hsettings.register_profile("hostile-long", hsettings.get_profile("hostile"), max_examples=5000)
PROFILE = hsettings.get_profile(
    "hostile-long" if os.environ.get("ASSETMAP_LONG") == "1" else "hostile"
)

# Strings that would do something if a page, a template engine, a map library or a
# spreadsheet interpreted them instead of showing them.
PAYLOADS = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    "</script><script>window.__pwned=1</script>",
    '"><svg onload="window.__pwned=1">',
    "'><body onload=alert(1)>",
    '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
    "<a href=javascript:alert(1)>x</a>",
    "${alert(1)}",
    "`${alert(1)}`",
    "{{7*7}}",
    "{{ lipsum.__globals__['os'].getpid() }}",
    "{% raw %}",
    "{% endraw %}{{ config }}",
    "{%- if true %}x{% endif %}",
    "#{7*7}",
    "<!--",
    "]]>",
    "&lt;b&gt; &amp; &#x3C;",
    "\\u003cscript\\u003e",
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "@SUM(1)",
    "<style>*{display:none}</style>",
    "<base href=//evil.example/>",
    '<meta http-equiv="refresh" content="0;url=//evil.example">',
    "\u2028\u2029",
    "\u202eevil",
    "🙂 Café",
]
WEBSITES = [
    "",
    "",
    "",
    "https://example.org/?q=<script>alert(1)</script>",
    'https://example.org/"><img src=x onerror=alert(1)>',
    "http://example.org/${alert(1)}",
    "javascript:alert(1)",  # refused: 400
]
EMAILS = ["", "info@example.org", 'x"><script>alert(1)</script>@evil.example']


def hostile_text(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(PAYLOADS),
        st.text(max_size=max_size),
        st.tuples(st.text(max_size=max_size), st.sampled_from(PAYLOADS)).map("".join),
    )


@st.composite
def submissions(draw: st.DrawFn, category_ids: tuple[str, ...]) -> dict[str, Any]:
    """One resident's submission near Trafford, with payloads in every free-text field."""
    name = draw(st.tuples(st.sampled_from(PAYLOADS), hostile_text(15)).map("".join))
    return {
        "name": draw(st.sampled_from([name, name[::-1], f"{name} group"])),
        "category": draw(st.sampled_from(category_ids)),
        "description": draw(hostile_text(60)),
        "address": draw(hostile_text(30)),
        "opening_times": draw(st.one_of(hostile_text(30), st.just("Tuesdays 10am-12pm"))),
        "lon": draw(st.floats(min_value=-2.40, max_value=-2.25)),
        "lat": draw(st.floats(min_value=53.40, max_value=53.48)),
        "website": draw(st.sampled_from(WEBSITES)),
        "email": draw(st.sampled_from(EMAILS)),
        "accessibility": draw(st.lists(st.sampled_from(["step_free", "bsl"]), unique=True)),
        "submitter_name": draw(hostile_text(20)),
    }


class Sender:
    """Posts generated submissions through the API or the form, as a resident would."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token = form_tokens(client)["csrf_token"]
        self.statuses: Counter[int] = Counter()
        self.refs: list[str] = []

    def send(self, sub: dict[str, Any], via: str) -> None:
        """Send one submission; ``via`` is "api" or "form" (Continue, then Send)."""
        if via == "api":
            response = self.client.post(SUBMISSIONS, json=sub)
            self.statuses[response.status_code] += 1
            if response.status_code == 201:
                self.refs.append(response.get_json()["reference"])
            return
        form = {**sub, "lon": repr(sub["lon"]), "lat": repr(sub["lat"]), "csrf_token": self.token}
        form["form_token"] = secrets.token_urlsafe(18)
        checked = self.client.post("/submit", data=form)
        self.statuses[checked.status_code] += 1
        if checked.status_code != 200:
            return
        # "No, it is a different place", should it look like one we list.
        sent = self.client.post("/submit", data={**form, "action": "send", "same_as": "none"})
        self.statuses[sent.status_code] += 1
        assert sent.status_code == 303, sent.get_data(as_text=True)[:500]
        self.refs.append(sent.headers["Location"].rsplit("/", 1)[1])

    def requests(self) -> int:
        return sum(self.statuses.values())
