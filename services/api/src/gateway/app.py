"""The gateway's HTTP shell: the public entry point and the only service with a database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import text

from gateway import production
from gateway.assessments.router import router as assessments_router
from gateway.audit.router import router as audit_router
from gateway.casedata.keys import load_keys
from gateway.casedata.sealing import CaseKeys, use_case_keys
from gateway.caseloads.router import router as caseloads_router
from gateway.consultations.router import router as consultations_router
from gateway.db import answer_database_outages, create_engine, create_sessionmaker
from gateway.engines import engine_clients
from gateway.events.delivery import DeliveryPolicy, DeliveryWorker, owners_from
from gateway.events.router import router as events_router
from gateway.frameworks.router import router as frameworks_router
from gateway.frameworks.router import vocabularies_router
from gateway.identity.authentication import Identity, authenticate
from gateway.identity.router import document_sign_in
from gateway.identity.router import router as identity_router
from gateway.identity.router import well_known as identity_well_known
from gateway.inspections.router import router as inspections_router
from gateway.inspections.transitions import entry_checks
from gateway.permissions import document_refusals
from gateway.programme.plan_router import published_router as published_programmes_router
from gateway.programme.plan_router import router as plans_router
from gateway.programme.router import router as programme_router
from gateway.ratings import publication
from gateway.ratings.router import router as ratings_router
from gateway.reports.documents import ReportDocuments
from gateway.reports.router import router as reports_router
from gateway.settings import Settings
from gateway.statistics.reads import statistics_pool
from gateway.statistics.router import router as statistics_router
from gateway.summaries.documents import SummaryDocuments, inspection_states
from gateway.summaries.router import router as summaries_router
from gateway.units.router import router as units_router
from gateway.voice.router import router as voice_router
from inspection_shared.web import create_service_app

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    production.refuse_defaults(settings)  # in production, no start on defaults or missing secrets
    use_case_keys(CaseKeys(*load_keys(settings)))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db_engine = create_engine(settings.resolved_database_url(), settings.database_limits())
        app.state.sessionmaker = create_sessionmaker(app.state.db_engine)
        app.state.identity = await Identity.open(settings, app.state.db_engine, settings.database_limits())
        app.state.rating_engine, app.state.sampling = engine_clients(settings)
        states = await inspection_states(app.state.db_engine, settings.database_limits())
        app.state.summaries = SummaryDocuments(states, settings.summary_cache_size)
        app.state.reports = ReportDocuments(states, settings.report_cache_size)
        statistics = await statistics_pool(app.state.db_engine, settings.database_limits())
        app.state.statistics_reads = statistics.reads if statistics is not None else None
        app.state.deliveries = DeliveryWorker(
            app.state.sessionmaker, owners_from(app.state.identity.cache, app.state.sessionmaker),
            DeliveryPolicy.from_settings(settings),
        )
        app.state.deliveries.start()
        try:
            yield
        finally:
            await app.state.deliveries.aclose()
            if states is not None:
                await states.aclose()
            if statistics is not None:
                await statistics.aclose()
            await app.state.rating_engine.aclose()
            await app.state.sampling.aclose()
            await app.state.identity.aclose()
            await app.state.db_engine.dispose()

    async def database_ready() -> None:
        async with app.state.db_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def rating_engine_ready() -> None:
        await app.state.rating_engine.ready()

    async def sampling_ready() -> None:
        await app.state.sampling.ready()

    app = create_service_app(
        title="Inspection gateway",
        version="0.1.0",
        description=(
            "The public API for planning and running inspections of probation and youth justice "
            "services: frameworks, units of inspection, caseloads, samples, case answers and ratings."
        ),
        settings=settings,
        lifespan=lifespan,
        readiness={"database": database_ready, "rating_engine": rating_engine_ready, "sampling": sampling_ready},
    )
    answer_database_outages(app)
    app.state.authenticate = authenticate
    app.state.webhook_hosts = settings.webhook_hosts_allowed()
    # What a move into a phase rests on, in the domains above inspections (see inspections.transitions).
    app.state.entry_checks = entry_checks(publication.ENTRY_CHECKS)
    # Routes are matched in the order they are included, each tried in turn (about 1 µs each): the summary,
    # the read dashboards poll, comes first (no other route's path can match its own), and sign-in, account
    # administration and the audit log, called seldom, last.
    for router in (summaries_router, frameworks_router, vocabularies_router, units_router, inspections_router,
                   caseloads_router, assessments_router, voice_router, ratings_router, reports_router,
                   statistics_router, events_router, programme_router, plans_router, published_programmes_router,
                   consultations_router, identity_router, audit_router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(identity_well_known)
    document_sign_in(app, f"{API_PREFIX}/auth/token")
    document_refusals(app)
    return app
