"""The Chalice app: configuration and blueprint registration only."""

import logging

from chalice import Chalice

from chalicelib.api.complaints.complaints import complaints
from chalicelib.api.errors import framework_answers
from chalicelib.api.escrow.bank import bank
from chalicelib.api.escrow.parents import parents
from chalicelib.api.institutions.institution_staff import institution_staff
from chalicelib.api.institutions.regulators import regulators
from chalicelib.api.institutions.staff import staff
from chalicelib.api.messages.notifications import notifications
from chalicelib.api.policy import policy
from chalicelib.api.public import public
from chalicelib.api.refunds.disputes import disputes
from chalicelib.api.refunds.refunds import refunds
from chalicelib.api.shared import shared
from chalicelib.api.shop.catalog import catalog
from chalicelib.api.shop.shop import shop
from chalicelib.api.supervision.journals import journals
from chalicelib.api.supervision.reconciliations import reconciliations
from chalicelib.workers.complaints import complaint_worker
from chalicelib.workers.liquidation import liquidation_worker
from chalicelib.workers.schedules import scheduled_jobs
from chalicelib.workers.settlement import settlement_worker
from chalicelib.workers.sweeps import sweep_worker

app = Chalice(app_name="ots-platform")
app.log.setLevel(logging.INFO)
app.register_middleware(framework_answers, "http")

for blueprint in (public, policy, catalog, shop, parents, institution_staff, staff, shared,
                  disputes, refunds, complaints, notifications, regulators, reconciliations,
                  journals, bank):
    app.register_blueprint(blueprint)
app.register_blueprint(settlement_worker)
app.register_blueprint(sweep_worker)
app.register_blueprint(liquidation_worker)
app.register_blueprint(complaint_worker)
app.register_blueprint(scheduled_jobs)
