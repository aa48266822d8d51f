"""`make demo`: one inspection run end to end through the gateway's public API, printed as a report would.

It uses the demo units that `make run` loaded and a synthetic caseload (clearly labelled synthetic: no
real person's data), then plans the inspection, puts the one signed in on its team as lead inspector,
uploads the caseloads, draws the samples, records generated case answers and domain-one judgements,
rates, lets the panel decide, ends fieldwork, checks the inspection's readiness for publication, and
publishes; then it corrects the published ratings openly, as a second published version, and reads
both versions back. Last, the programme: how often the demo PDUs could be inspected, a sample per PDU
beside a sample per region, on synthetic caseloads; and a plan for the next programme year, quarter by
quarter, on those caseloads and synthetic intelligence scores.
Run it against the services `make run` started: GATEWAY_URL, else http://127.0.0.1:$GATEWAY_PORT (8000).
It signs in as the administrator GATEWAY_ADMIN_EMAIL with GATEWAY_ADMIN_PASSWORD, and asks for them if
they are unset. With no gateway there (or one that stops answering) it says so in one line, exit code 2.
"""

from __future__ import annotations

import csv
import getpass
import io
import os
import random
import sys
import uuid
from datetime import date, timedelta

import httpx

ROOT_URL = (os.environ.get("GATEWAY_URL") or f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT') or 8000}").rstrip("/")
GATEWAY = ROOT_URL + "/api/v1"
NO_GATEWAY = 2
PDU_CODE = "N53DRBY"  # Derby City, East Midlands
FRAMEWORK = "probation-pdu-2021"
SEED = 20260112

# Share of 'yes' answers the synthetic inspectors give, per case-based standard: chosen so the table
# shows several bands, as a real report would.
YES_RATE = {"2.1": 0.83, "2.2": 0.74, "2.3": 0.68, "2.4": 0.61, "2.5": 0.55}
JUDGEMENTS = {
    "1.1": ("good", "Leaders set a clear vision; staff understood priorities (synthetic evidence)."),
    "1.2": ("requires_improvement", "Workloads were high and vacancies persisted (synthetic evidence)."),
    "1.3": ("good", "A wide range of services was available to people on probation (synthetic evidence)."),
    "1.4": ("requires_improvement", "Case records were hard to navigate (synthetic evidence)."),
}
CORRECTION = {
    "reason": "The factual accuracy check found that the vacancy figures quoted were another PDU's (synthetic).",
    "judgements": {"1.2": {
        "rating": "good", "evidence_summary": "Vacancies were filled by the time of fieldwork (synthetic evidence).",
    }},
}
CAPACITY = {"confidence": 0.8, "margin": 0.05, "hours_per_case": 3.5, "hours_per_inspection": 150,
            "annual_hours": 30000, "cycles": [1, 2, 3]}
PLAN_RULES = {"reinspect_inadequate_within_months": 12, "random_count": 6, "proportionate_below_caseload": 1500,
              "joint": [{"partners": ["HM Inspectorate of Prisons"], "count": 2}]}
LABELS = {"outstanding": "Outstanding", "good": "Good", "requires_improvement": "Requires improvement",
          "inadequate": "Inadequate", "not_rated": "Not rated", None: "-"}


def check(response: httpx.Response, *expected: int) -> dict:
    if response.status_code not in expected:
        sys.exit(f"{response.request.method} {response.request.url} answered {response.status_code}:\n{response.text}")
    return response.json() if response.content else {}


def synthetic_frame(rng: random.Random, cases: int, sample_type: str, window_start: date) -> str:
    """A caseload shaped roughly like the national probation statistics: about 9 in 10 men, a little under
    half on community orders, risk of serious harm about 25% low, 50% medium, 23% high and 2% very high.
    Every value is invented."""
    out = io.StringIO()
    writer = csv.writer(out)
    refs = rng.sample(range(100000, 999999), cases)
    if sample_type == "case_supervision":
        writer.writerow(["case_ref", "unit", "gender", "sentence_type", "rosh_level", "start_date"])
        for n in refs:
            writer.writerow([
                f"X{n}", PDU_CODE,
                "male" if rng.random() < 0.9 else "female",
                rng.choices(["community_order", "licence", "pre_release_custody"], [0.47, 0.38, 0.15])[0],
                rng.choices(["low", "medium", "high", "very_high"], [0.25, 0.50, 0.23, 0.02])[0],
                (window_start + timedelta(days=rng.randrange(0, 180))).isoformat(),
            ])
    else:
        writer.writerow(["case_ref", "unit", "gender", "sentence_type", "start_date"])
        for n in refs:
            writer.writerow([
                f"C{n}", PDU_CODE,
                "male" if rng.random() < 0.88 else "female",
                rng.choices(["community_order", "suspended_sentence_order", "immediate_custody"], [0.5, 0.3, 0.2])[0],
                (window_start + timedelta(days=rng.randrange(0, 90))).isoformat(),
            ])
    return out.getvalue()


def credentials() -> tuple[str, str]:
    """The administrator to sign in as: from the environment, or asked for."""
    email, password = os.environ.get("GATEWAY_ADMIN_EMAIL"), os.environ.get("GATEWAY_ADMIN_PASSWORD")
    if email and password:
        return email, password
    if not sys.stdin.isatty():
        sys.exit("The demo signs in to the gateway as an administrator: set GATEWAY_ADMIN_EMAIL and "
                 "GATEWAY_ADMIN_PASSWORD (admin@localhost and the password `make run` printed when it made it, "
                 "or the administrator you set up).")
    print("The demo signs in to the gateway as an administrator "
          "(set GATEWAY_ADMIN_EMAIL and GATEWAY_ADMIN_PASSWORD to skip these questions).")
    email = email or input("Administrator's email address [admin@localhost]: ").strip() or "admin@localhost"
    password = password or getpass.getpass(f"Password of {email} (`make run` printed it when it made the account): ")
    return email, password


def sign_in(http: httpx.Client) -> None:
    """Sign in and send the access token with every request from now on."""
    email, password = credentials()
    answer = http.post(f"{GATEWAY}/auth/token", data={"username": email, "password": password})
    if answer.status_code != 200:
        detail = answer.json().get("detail", answer.text) if answer.content else answer.status_code
        sys.exit(f"Signing in as {email} was refused: {detail}")
    http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    print(f"Signed in as {email}")


def refuse(message: str) -> int:
    print(message, file=sys.stderr)
    return NO_GATEWAY


def gateway_answers(http: httpx.Client) -> bool:
    """Whether a gateway is there, asked before anything else (and before asking for a password)."""
    try:
        return http.get(f"{ROOT_URL}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def plan(http: httpx.Client, unit: dict, run: str, start: date) -> httpx.Response:
    """Plan the demo's inspection; one an earlier demo run left open on the same dates is withdrawn first,
    as a unit is inspected by one open inspection at a time."""
    body = {
        "unit_id": unit["id"], "framework_id": FRAMEWORK, "type": "core",
        "title": f"Demo inspection of {unit['name']} ({run})", "lead": "Demo Lead Inspector",
        "fieldwork_start": start.isoformat(), "fieldwork_end": (start + timedelta(days=11)).isoformat(),
    }
    planned = http.post(f"{GATEWAY}/inspections", json=body)
    earlier = planned.json().get("overlapping") if planned.status_code == 409 else None
    if earlier and (earlier["title"] or "").startswith("Demo inspection of "):
        check(http.post(f"{GATEWAY}/inspections/{earlier['id']}/transitions",
                        json={"to": "withdrawn", "note": "Left open by an earlier demo run."}), 200)
        print(f"Withdrew inspection {earlier['id']}, left open by an earlier demo run on the same dates")
        planned = http.post(f"{GATEWAY}/inspections", json=body)
    return planned


def main() -> int:
    with httpx.Client(timeout=120) as http:
        if not gateway_answers(http):
            return refuse(f"no gateway at {ROOT_URL}: start it with make run (or set GATEWAY_URL or GATEWAY_PORT)")
        try:
            return run_demo(http)
        except httpx.TransportError as error:
            return refuse(f"the gateway at {ROOT_URL} stopped answering ({type(error).__name__}): is make run "
                          "still running?")


def run_demo(http: httpx.Client) -> int:
    rng = random.Random(SEED)
    run = uuid.uuid4().hex[:8]
    sign_in(http)
    units = check(http.get(f"{GATEWAY}/units", params={"code": PDU_CODE}), 200)["items"]
    if not units:
        sys.exit(f"Demo unit {PDU_CODE} is not loaded: start the services with `make run` first.")
    unit = units[0]
    framework = check(http.get(f"{GATEWAY}/frameworks/{FRAMEWORK}"), 200)
    standards = [s for d in framework["domains"] for s in d["standards"]]

    start = date.today() + timedelta(days=21)
    inspection = check(plan(http, unit, run, start), 201)
    iid = inspection["id"]
    print(f"Planned inspection {iid} of {unit['name']} ({unit['code']}) under {FRAMEWORK}")
    me = check(http.get(f"{GATEWAY}/me"), 200)
    check(http.put(f"{GATEWAY}/inspections/{iid}/team",
                   json={"members": [{"user_id": me["id"], "role": "lead_inspector"}]}), 200)
    print(f"  team: {me['name']} as lead inspector")

    def move(to: str) -> None:
        check(http.post(f"{GATEWAY}/inspections/{iid}/transitions", json={"to": to, "note": "demo"}), 200)
        print(f"  -> {to}")

    move("pre_fieldwork")
    window = start - timedelta(days=200)
    sizes = {"case_supervision": 1850, "court_reports": 620}
    samples = {}
    for sample_type, cases in sizes.items():
        frame = synthetic_frame(rng, cases, sample_type, window)
        check(http.put(f"{GATEWAY}/inspections/{iid}/frames/{sample_type}", content=frame,
                       headers={"Content-Type": "text/csv"}), 200, 201)
        sample = check(http.post(
            f"{GATEWAY}/inspections/{iid}/samples",
            json={"sample_type": sample_type, "reserves_per_stratum": 2, "seed": SEED},
            headers={"Idempotency-Key": f"demo-{run}-{sample_type}"},
        ), 201)
        samples[sample_type] = sample
        print(f"  sample {sample_type}: {len(sample['selected'])} of {cases} synthetic cases "
              f"(seed {sample['seed']}, fingerprint {sample['frame_fingerprint'][:12]}...)")

    move("fieldwork")
    lines = ["case_ref,sample_type,key_question,answer"]
    answers = 0
    for standard in standards:
        if standard["kind"] != "case":
            continue
        sample = samples[standard["sample_type"]]
        for case in sample["selected"]:
            for kq in standard["key_questions"]:
                roll = rng.random()
                answer = "not_applicable" if roll > 0.96 else ("yes" if roll < YES_RATE[standard["id"]] else "no")
                lines.append(f"{case['case_ref']},{standard['sample_type']},{kq['id']},{answer}")
                answers += 1
    imported = check(http.post(f"{GATEWAY}/inspections/{iid}/assessments/import", content="\n".join(lines) + "\n",
                               headers={"Content-Type": "text/csv"}), 200, 201)
    print(f"  recorded {answers} case answers in one import ({imported.get('created', '?')} case assessments)")
    for standard_id, (rating, evidence) in JUDGEMENTS.items():
        check(http.put(f"{GATEWAY}/inspections/{iid}/judgements/{standard_id}",
                       json={"rating": rating, "evidence_summary": evidence}), 200, 201)
    print(f"  recorded {len(JUDGEMENTS)} domain-one judgements")

    move("rating")
    check(http.post(f"{GATEWAY}/inspections/{iid}/rating-runs", json={},
                    headers={"Idempotency-Key": f"demo-{run}-rating"}), 201)
    check(http.post(f"{GATEWAY}/inspections/{iid}/panel-decisions", json={"overrides": [{
        "standard": "1.4", "rating": "good",
        "reason": "The panel found the new case-record system resolved the issues seen (synthetic).",
    }]}, headers={"Idempotency-Key": f"demo-{run}-panel"}), 201)
    print("  rated, and the ratings panel decided one standard")
    # Fieldwork ends before publication; the demo does not wait three weeks, it moves the dates back.
    held = http.get(f"{GATEWAY}/inspections/{iid}")
    check(http.patch(f"{GATEWAY}/inspections/{iid}", json={
        "fieldwork_start": (date.today() - timedelta(days=14)).isoformat(),
        "fieldwork_end": (date.today() - timedelta(days=3)).isoformat(),
    }, headers={"If-Match": held.headers["etag"]}), 200)
    print("  fieldwork over (the demo moves its dates into the past rather than wait for them)")
    readiness = check(http.get(f"{GATEWAY}/inspections/{iid}/readiness"), 200)
    unmet = [c["message"] for c in readiness["conditions"] if not c["met"]]
    if unmet:
        sys.exit("The inspection is not ready for publication:\n  " + "\n  ".join(unmet))
    print(f"  ready for publication: all {len(readiness['conditions'])} conditions of "
          f"{FRAMEWORK}'s publication gates are met")
    move("published")

    print_report(unit, check(http.get(f"{GATEWAY}/inspections/{iid}/summary"), 200))

    correction = check(http.post(f"{GATEWAY}/inspections/{iid}/corrections", json=CORRECTION,
                                 headers={"Idempotency-Key": f"demo-{run}-correction"}), 201)
    versions = {v: check(http.get(f"{GATEWAY}/inspections/{iid}/summary", params={"version": v}), 200)
                for v in (1, correction["version"])}
    print_correction(correction, versions)
    caseloads, answer = capacity(http, rng)
    print_capacity(answer)
    print_plan(programme_plan(http, rng, caseloads, answer))
    return 0


def capacity(http: httpx.Client, rng: random.Random) -> tuple[dict[str, int], dict]:
    """The capacity question for every demo PDU, each given a synthetic caseload (returned by unit id)."""
    pdus = check(http.get(f"{GATEWAY}/units", params={"type": "pdu", "limit": 200}), 200)["items"]
    caseloads = {pdu["id"]: rng.randint(1200, 3600) for pdu in pdus}
    return caseloads, check(http.post(f"{GATEWAY}/programme/capacity", json={
        "units": [{"unit_id": unit_id, "caseload": n} for unit_id, n in caseloads.items()], **CAPACITY,
    }), 200)


def programme_plan(http: httpx.Client, rng: random.Random, caseloads: dict[str, int], answer: dict) -> dict:
    """A plan for the next programme year over the demo PDUs: the hours of an inspection a PDU's, on
    average, from the capacity step; synthetic intelligence scores; one commissioned inspection."""
    today = date.today()
    first = (today.year if today.month >= 4 else today.year - 1) + 1
    year = f"{first}-{(first + 1) % 100:02d}"
    per_pdu = answer["designs"][0]
    return check(http.post(f"{GATEWAY}/programme/plans", json={
        "name": f"Probation programme {year} (synthetic demo)", "programme_years": [year], "seed": SEED,
        "capacity": {"annual_hours": CAPACITY["annual_hours"],
                     "hours_per_inspection": round(per_pdu["hours"] / per_pdu["inspections"])},
        "rules": PLAN_RULES,
        "units": [{"unit_id": unit_id, "caseload": n, "intelligence": round(rng.random(), 2)}
                  for unit_id, n in caseloads.items()],
        "commissioned": [{"body": "Guernsey Probation Service", "quarter": f"{year} Q3"}],
    }), 201)


def print_report(unit: dict, summary: dict) -> None:
    table = summary["ratings"]
    print()
    print(f"{unit['name']}: inspection of probation services (synthetic demo data)")
    print("=" * 100)
    print(f"{'Standard':<38} {'Rating':<22} {'Lowest key question (80% interval)':<36}")
    print("-" * 100)
    for standard in table["standards"]:
        figures = {k["key_question"]: k for k in standard["key_questions"]}
        driver = ""
        if standard["driver"] in figures:
            figure = figures[standard["driver"]]
            low, high = figure["interval"]
            driver = f"{standard['driver']}: {figure['percent_rounded']}% ({low:.0f}-{high:.0f}%)"
            if standard["borderline"]:
                driver += " borderline"
        print(f"{standard['standard'] + ' ' + standard['name']:<38} {standard['rating_label'] or '-':<22} {driver}")
        if standard["overridden"]:
            computed = LABELS[standard["computed_rating"]]
            print(f"{'':<38} (panel decision; computed {computed}: {standard['override_reason']})")
    overall = table["overall"]
    print("-" * 100)
    print(f"Overall: {overall['rating_label'] or LABELS[overall['rating']]}, score {overall['score']}/{overall['max_score']}"
          + (" (score bands provisional)" if overall["bands_provisional"] else ""))


def print_correction(correction: dict, versions: dict[int, dict]) -> None:
    """The correction as a published version, and the overall rating of every version, each still readable."""
    changes = correction["changes"]
    print()
    print(f"Correction, published as version {correction['version']}: {correction['reason']}")
    for change in changes["ratings"]:
        print(f"  {change['standard']}: {LABELS[change['before']]} -> {LABELS[change['after']]}")
    for version, summary in versions.items():
        overall = summary["ratings"]["overall"]
        shown = "as first published" if version == 1 else "latest, corrected"
        print(f"  Version {version} ({shown}): {LABELS[overall['rating']]}, score {overall['score']}/{overall['max_score']}")


def print_capacity(answer: dict) -> None:
    print()
    print(f"Programme: how often can every PDU be inspected? (synthetic caseloads, {CAPACITY['hours_per_case']} hours "
          f"a case, {CAPACITY['hours_per_inspection']} an inspection, {CAPACITY['annual_hours']:,} a year)")
    for design in answer["designs"]:
        cycles = ", ".join(f"{c['years']} year{'s' if c['years'] > 1 else ''} "
                           f"{'fits' if c['feasible'] else 'does not fit'}" for c in design["cycles"])
        print(f"  {design['design']:<10} {design['inspections']:>3} inspections, {design['cases']:>6,} cases, "
              f"{design['hours']:>9,.0f} hours a cycle: {cycles}; shortest cycle {design['shortest_cycle']} "
              f"year{'s' if design['shortest_cycle'] > 1 else ''}")



def print_plan(plan: dict) -> None:
    capacity = plan["capacity"]
    print()
    print(f"{plan['name']}: {capacity['full']:,.0f} hours a full inspection, half that a proportionate one")
    for quarter in plan["quarters"]:
        kinds: dict[str, int] = {}
        for slot in quarter["slots"]:
            kinds[slot["kind"]] = kinds.get(slot["kind"], 0) + 1
        named = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        print(f"  {quarter['quarter']}: {len(quarter['slots']):>2} inspections ({named}); "
              f"{quarter['used']:,.0f} of {quarter['available']:,.0f} hours")
    chosen = {rule: sum(s["reason"]["rule"] == rule for q in plan["quarters"] for s in q["slots"])
              for rule in ("reinspect_inadequate", "random", "concern")}
    print(f"  chosen: {chosen['reinspect_inadequate']} re-inspections of Inadequate, {chosen['random']} at random "
          f"(seed {plan['seed']}), {chosen['concern']} by concern; {len(plan['not_placed'])} not placed")


if __name__ == "__main__":
    sys.exit(main())
